// What a compiled executable (.kef) holds, for the report's Compilation view: its operations,
// contexts and the memory plan's arena over time (which tensor occupies which bytes from the
// operation that writes it to the last one that reads it). Read with the runtime's own parser.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace kiln::profiler {

/// {"file", "bytes", "net_name", "hw_arch", "graph_hash", "operations": [{index, layer, opcode,
/// context}], "contexts": [{index, first_operation, operations, weight_bytes, macs}],
/// "arena": {"bytes", "tensors": [{tensor, layer, offset_bytes, bytes, first_op, last_op}]}}.
/// first_op -1: written before the first operation (a network input); last_op = the number of
/// operations: kept to the end (a network output). Throws Error naming the file.
nlohmann::json executableJson(const std::string& kefPath);

}  // namespace kiln::profiler
