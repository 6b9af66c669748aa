// Validation of what the importer reads from an ONNX model: attributes checked against the ONNX
// specification (positive strides, dilations and kernel sizes, non-negative pads, known enum
// strings, permutations…), Kiln's size limits on shapes, and names that must be valid UTF-8.
// Every failure is an Error naming the node (name and op type), the attribute, what was expected
// and what was found; importFile() adds the model file.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "compiler/onnx/node_context.h"

namespace kiln::onnx {

/// Kiln's limits on sizes ONNX leaves open. They are far above any real network and keep every
/// shape, window and MAC computation inside 64-bit arithmetic.
constexpr int64_t kMaxDim = (int64_t(1) << 31) - 1;  // one dimension of a tensor
constexpr int64_t kMaxElements = int64_t(1) << 34;   // elements of one tensor
constexpr int64_t kMaxWindow = int64_t(1) << 20;     // a kernel size, stride, dilation, pad, block

/// The integer list attribute `name`, or `dflt` when absent. Checks it has `count` entries
/// (`countWhy` says why, e.g. "one per spatial axis") and that each lies in [lo, hi].
std::vector<int64_t> intsAttr(const NodeContext& c, const std::string& name,
                              const std::vector<int64_t>& dflt, size_t count,
                              const std::string& countWhy, int64_t lo, int64_t hi);
/// The required integer list attribute `name` (an Error when absent), checked like intsAttr.
std::vector<int64_t> requiredIntsAttr(const NodeContext& c, const std::string& name, size_t count,
                                      const std::string& countWhy, int64_t lo, int64_t hi);
/// The integer attribute `name`, or `dflt` when absent; an Error unless it lies in [lo, hi].
int64_t intAttr(const NodeContext& c, const std::string& name, int64_t dflt, int64_t lo,
                int64_t hi);
/// A 0/1 flag attribute (ceil_mode, keepdims, transB…).
bool flagAttr(const NodeContext& c, const std::string& name, int64_t dflt);
/// A finite float attribute (alpha, beta, epsilon…), or `dflt` when absent.
double finiteAttr(const NodeContext& c, const std::string& name, double dflt);
/// A string attribute that must be one of `allowed`, or `dflt` when absent.
std::string enumAttr(const NodeContext& c, const std::string& name, const std::string& dflt,
                     std::initializer_list<const char*> allowed);

/// The attributes of 2-D window operators (Conv, ConvTranspose, MaxPool, AveragePool):
/// `name` as 2 integers from `lo` to kMaxWindow, {lo, lo} when absent (strides and dilations:
/// lo = 1; output_padding: lo = 0).
std::vector<int64_t> spatialAttr(const NodeContext& c, const std::string& name, int64_t lo);
/// `pads` as 4 non-negative integers [top, left, bottom, right], zeros when absent.
std::vector<int64_t> padsAttr(const NodeContext& c);
/// `auto_pad`: NOTSET (the default), SAME_UPPER, SAME_LOWER or VALID.
std::string autoPadAttr(const NodeContext& c);

/// `perm` with negative entries counted from the end; fails unless it is a permutation of
/// 0 … rank-1 (Transpose).
std::vector<int64_t> checkPermutation(const NodeContext& c, const std::vector<int64_t>& perm,
                                      int64_t rank);
/// Fails when normalised `axes` repeat an axis; `what` names them ("attribute 'axes'").
void checkUniqueAxes(const NodeContext& c, const std::string& what, std::vector<int64_t> axes);

/// Fails unless every dimension of `shape` lies in [minDim, kMaxDim] and it has at most
/// kMaxElements elements. `what` names the tensor in the message ("input 'x'").
void checkTensorShape(const std::string& what, const Shape& shape, int64_t minDim = 1);

/// Fails when the model holds a name that is not valid UTF-8 (graph inputs and outputs,
/// initializers, nodes: name, op type, domain, input and output value names): Kiln writes names
/// into JSON, which must be UTF-8. The message names the field, the node and the offending byte.
void checkModelNames(const ::onnx::GraphProto& g);
/// Fails unless `name` is valid UTF-8; `field` says where it came from ("--net-name").
void checkUtf8(const std::string& field, const std::string& name);

}  // namespace kiln::onnx
