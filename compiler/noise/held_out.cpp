#include "compiler/noise/held_out.h"

#include "calib/calib_set.h"

namespace kiln::noise {

HeldOutSamples loadHeldOut(const Graph& g, const HeldOutData& d) {
  std::vector<calib::InputSpec> specs;
  for (int id : g.inputLayers())
    specs.push_back({g.at(id).attrString("onnx_name"), g.at(id).attrInts("user_shape")});
  const calib::CalibSet set =
      d.arrays.empty() ? calib::loadCalibSet(d.path, specs, size_t(d.size))
                       : calib::calibSetFromArrays(d.arrays, specs, size_t(d.size), d.arraysName);
  HeldOutSamples out;
  out.description = set.description;
  out.warnings = set.warnings;
  const auto ids = g.inputLayers();
  for (const auto& sample : set.samples) {
    std::vector<FloatBuffer> bufs;
    for (size_t k = 0; k < ids.size(); ++k)
      bufs.push_back({g.at(ids[k]).attrInts("user_shape"), sample[k]});
    out.samples.push_back(std::move(bufs));
  }
  return out;
}

}  // namespace kiln::noise
