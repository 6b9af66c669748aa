// Binary element-wise operators with NumPy broadcasting -> ew_add, ew_sub, ew_mult, ew_div,
// ew_max, ew_min. A constant operand becomes a const_input layer; Sum/Max/Min with more than two
// operands become a chain.
#include "compiler/onnx/shape_helpers.h"

namespace kiln::onnx {

namespace {

OpImporter binary(LayerType t) {
  OpImporter imp;
  imp.import = [t](NodeContext& c) {
    if (c.numInputs() < 1) throw c.error("needs at least one input");
    ValueRef acc = c.value(0);
    if (c.numInputs() == 1) return c.setOutput(0, acc);
    for (int i = 1; i < c.numInputs(); ++i) acc = c.addLayer(makeLayer(t, {acc, c.value(i)}));
    c.setOutput(0, acc);
  };
  return imp;
}

}  // namespace

void registerElementwiseOps(OpTable& t) {
  t["Add"] = binary(LayerType::EwAdd);
  t["Sum"] = binary(LayerType::EwAdd);
  t["Sub"] = binary(LayerType::EwSub);
  t["Mul"] = binary(LayerType::EwMult);
  t["Div"] = binary(LayerType::EwDiv);
  t["Max"] = binary(LayerType::EwMax);
  t["Min"] = binary(LayerType::EwMin);
  // Equal on run-time tensors yields 1.0 / 0.0 (Kiln tensors are numbers, not booleans).
  t["Equal"] = binary(LayerType::EwEqual);
  // Cast to a float type is the identity on Kiln's float tensors; other casts only fold.
  t["Cast"] = {[](NodeContext& c) {
    const int64_t to = c.attrInt("to", 1);
    if (to != 1 && to != 10 && to != 11)
      throw c.error("Cast of a run-time tensor to " + dtypeName(int32_t(to)) +
                    " is not supported (Kiln computes in float; only casts to float fold away)");
    c.setOutput(0, c.value(0));
  }};
}

}  // namespace kiln::onnx
