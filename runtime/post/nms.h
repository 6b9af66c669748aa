// Detector post-processing on the host: box decoding and per-class non-maximum suppression after
// the network's outputs are dequantized, as the reference toolchain's nms_postprocess does it on
// the CPU (engine=cpu). One implementation for `kilnrt infer` and `kiln infer --target quantized`,
// so both return the same bytes. docs/runtime.md describes the output layout.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/engine/program.h"

namespace kiln::rt {

/// The meta-architectures (file values of the .kef section `nms`).
enum class NmsArch : uint32_t {
  Ssd = 1,     // anchors + centre/size regression with scale factors
  Yolov5 = 2,  // anchor-based: per stride, anchors in pixels, one encoded output per stride
  Yolov8 = 3,  // anchor-free: per stride, DFL (or direct ltrb) regression + class scores
};
const char* nmsArchName(NmsArch a);

/// One bbox decoder of the reference's config: a pair of outputs (or one for yolov5) and its
/// anchors.
struct NmsDecoder {
  std::string name;
  uint32_t regOutput = 0;  // index of the output holding the box regression (yolov5: everything)
  uint32_t clsOutput = 0;  // index of the output holding the class scores (yolov5: = regOutput)
  uint32_t stride = 0;     // pixels per cell (yolo; ssd when the outputs are rows, not maps)
  std::vector<float> anchorW, anchorH;  // yolov5: pixels; ssd: fractions of the image
};

struct NmsConfig {
  NmsArch arch = NmsArch::Yolov8;
  float scoreThreshold = 0.3f;  // a box is a candidate when its score >= this
  float iouThreshold = 0.6f;    // a box is suppressed when its IoU with a kept one is > this
  uint32_t maxProposalsPerClass = 100;
  uint32_t classes = 1;
  uint32_t imageH = 0, imageW = 0;        // the network's input size in pixels
  uint32_t regressionLength = 16;         // yolov8: DFL bins per side; 0 = direct ltrb distances
  float centersScale = 1, dimsScale = 1;  // ssd: tx / centersScale, tw / dimsScale
  bool expBoxSize = true;                 // ssd: w = exp(tw) * wa (else tw * wa: BlazeFace)
  uint32_t regIndex[4] = {0, 1, 2, 3};    // ssd: the positions of ty, tx, th, tw in a box's values
  bool backgroundRemoval = false;         // ssd: class backgroundIndex gives no boxes
  uint32_t backgroundIndex = 0;
  std::vector<NmsDecoder> decoders;
};

/// One dequantized output as the host sees it: the stream's shape and layout (ONNX's).
struct NmsTensor {
  const float* data = nullptr;
  std::vector<int64_t> shape;
  std::string layout;
};

/// The name of the NMS output in outputs.json and its file (nms_postprocess.npy).
constexpr const char* kNmsOutputName = "nms_postprocess";

/// Floats of the NMS output: per class 1 + 5 * maxProposalsPerClass.
int64_t nmsOutputSize(const NmsConfig& c);

/// Checks `c` against the program's outputs (indices, shapes, channel counts, thresholds);
/// throws Error naming the decoder and what does not fit.
void checkNmsConfig(const NmsConfig& c, const std::vector<StreamDesc>& outputs);

/// Decodes the boxes of one sample and runs per-class greedy NMS. Returns nmsOutputSize(c)
/// floats: for each class in order, its box count, then that many boxes
/// [y_min, x_min, y_max, x_max, score] normalized to the image (highest score first, ties by
/// decoding order); unused floats at the end are 0. `outputs` are all the network's outputs, in
/// stream order, already checked by checkNmsConfig.
std::vector<float> runNms(const NmsConfig& c, const std::vector<NmsTensor>& outputs);

/// A readable summary for kilnrt parse and kiln info: "yolov8, 3 classes, 3 decoders, ...".
std::string describeNms(const NmsConfig& c);

}  // namespace kiln::rt
