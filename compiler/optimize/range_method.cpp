// The report names of the range methods.
#include "compiler/optimize/range_method.h"

namespace kiln::optimize {

namespace {

constexpr RangeMethod kAll[] = {RangeMethod::MinMax,        RangeMethod::ActivationClipping,
                                RangeMethod::ForceRangeOut, RangeMethod::ForceRangeIn,
                                RangeMethod::Mse,           RangeMethod::NotOwn};

}  // namespace

const char* rangeMethodName(RangeMethod m) {
  switch (m) {
    case RangeMethod::MinMax:
      return "min_max";
    case RangeMethod::ActivationClipping:
      return "activation_clipping";
    case RangeMethod::ForceRangeOut:
      return "force_range_out";
    case RangeMethod::ForceRangeIn:
      return "force_range_in";
    case RangeMethod::Mse:
      return "mse";
    case RangeMethod::NotOwn:
      return "not_own";
  }
  return "";
}

bool rangeMethodFromName(const std::string& name, RangeMethod& out) {
  for (RangeMethod m : kAll)
    if (name == rangeMethodName(m)) {
      out = m;
      return true;
    }
  return false;
}

}  // namespace kiln::optimize
