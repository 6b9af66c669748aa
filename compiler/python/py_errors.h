// C++ exceptions -> the Python exceptions of kiln/errors.py, with the CLI's messages.
#pragma once

#include <stdexcept>

namespace kiln::python {

/// Calibration arrays given in memory that the calibration loader refused (dtype, shape, NaN):
/// raised as kiln.InputError, a ValueError.
class ArrayValueError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Maps every exception type of docs/errors.md to its class in kiln.errors.
void registerErrorTranslator();

}  // namespace kiln::python
