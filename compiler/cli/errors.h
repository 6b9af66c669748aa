// How `kiln` reports an exception that reaches main: one message on stderr and the exit status
// (1 for input and user errors, 2 for usage mistakes and internal errors). docs/errors.md lists
// the exception types and what each layer throws.
#pragma once

#include <exception>

namespace kiln::cli {

/// Prints the message of `e` ("kiln: error: ..." unless it already carries "FILE:LINE:COL:
/// error:") and returns the exit status for it.
int reportError(std::exception_ptr e);

}  // namespace kiln::cli
