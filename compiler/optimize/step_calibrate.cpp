// Step "calibrate": loads the calibration set (or random data) in the network inputs' own layout,
// warns about what looks wrong with it, and keeps its samples as float buffers.
#include "calib/calib_set.h"
#include "common/strings.h"
#include "common/yuv.h"
#include "compiler/optimize/optimize_steps.h"
#include "compiler/quant/outliers.h"

namespace kiln::optimize {

namespace {

std::vector<std::vector<FloatBuffer>> toBuffers(const calib::CalibSet& set, const Graph& g) {
  std::vector<std::vector<FloatBuffer>> out;
  const auto ids = g.inputLayers();
  for (const auto& sample : set.samples) {
    std::vector<FloatBuffer> bufs;
    for (size_t k = 0; k < ids.size(); ++k)
      bufs.push_back({g.at(ids[k]).attrInts("user_shape"), sample[k]});
    out.push_back(std::move(bufs));
  }
  return out;
}

}  // namespace

void stepCalibrate(OptimizeState& s) {
  const OptimizeOptions& o = s.options;
  const Graph& g = s.graph();
  std::vector<calib::InputSpec> specs;
  for (int id : g.inputLayers())
    specs.push_back({g.at(id).attrString("onnx_name"), g.at(id).attrInts("user_shape")});
  // A camera-format input takes raw frames; images would be resized into the frame's shape.
  const bool arrays =
      o.calibPath.size() > 4 && (o.calibPath.rfind(".npy") == o.calibPath.size() - 4 ||
                                 o.calibPath.rfind(".npz") == o.calibPath.size() - 4);
  for (int id : g.inputLayers()) {
    const Layer& l = g.at(id);
    yuv::Format f;
    if (o.calibArrays.empty() && !o.randomCalib && !arrays &&
        yuv::parseFormat(l.attrString("raw_format", ""), f))
      throw Error("input '" + l.attrString("onnx_name") + "' takes " + yuv::formatName(f) +
                  " frames " + shapeStr(l.attrInts("user_shape")) +
                  " (the model script's input_conversion): give the calibration set as raw "
                  "frames of that shape in a .npy or .npz file; " +
                  o.calibPath + " is not one, and images cannot be read as " + yuv::formatName(f) +
                  " frames");
  }
  const int want = o.calibSizeOverride > 0 ? o.calibSizeOverride : s.settings.calibsetSize;
  if (!o.calibArrays.empty()) {
    s.calibSet = calib::calibSetFromArrays(o.calibArrays, specs, size_t(want), o.calibArraysName);
  } else {
    s.calibSet = o.randomCalib ? calib::randomCalibSet(specs, size_t(want), s.settings.seed)
                               : calib::loadCalibSet(o.calibPath, specs, size_t(want));
  }
  const calib::CalibSet& set = s.calibSet;
  for (const auto& w : set.warnings) o.warn(w);
  if (set.random)
    o.warn(
        "calibrating on random data (--use-random-calib-set): the ranges, and so the accuracy, "
        "mean nothing");
  if (s.settings.normalizes && calib::looksNormalized(set))
    o.warn(
        "the script adds normalization, but the calibration data already lies within [-3, 3]: is "
        "it "
        "normalized twice? After a script normalization the network takes raw 0-255 pixels");
  o.info(set.description);
  s.samples = toBuffers(set, g);
  // A handful of samples far above the rest would set every input range alone: left out.
  std::vector<std::string> inputNames;
  for (const auto& spec : specs) inputNames.push_back(spec.name);
  for (const auto& w : quant::dropInputOutliers(s.samples, inputNames)) o.warn(w);
}

}  // namespace kiln::optimize
