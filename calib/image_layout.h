// Turning a decoded image into an input tensor: bilinear resize and NCHW/NHWC placement.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "calib/calib_set.h"
#include "calib/image_decode.h"

namespace kiln::calib {

/// Where an image goes in an input tensor of rank 4 with batch 1.
struct ImageLayout {
  bool nchw = true;
  int64_t height = 0, width = 0, channels = 0;  // channels is 1, 3 or 4
};

/// Finds the channel axis: a dim of size 3 at position 1 (NCHW) or last (NHWC), else a dim of
/// size 1 or 4 there (position 1 preferred). Throws CalibError naming the input otherwise.
ImageLayout imageLayoutFor(const InputSpec& input);

/// Bilinear resize with half-pixel centres (src = (dst + 0.5) * in / out - 0.5, clamped to the
/// edge), the convention of OpenCV INTER_LINEAR and PyTorch align_corners=False without
/// antialiasing. Returns HWC floats in 0..255 with the image's own channel count.
std::vector<float> resizeBilinear(const Image& img, int64_t outHeight, int64_t outWidth);

/// Resizes `img` and places it in the layout, converting channels: gray -> RGB by replication,
/// RGB -> gray by BT.601 luma (0.299 R + 0.587 G + 0.114 B), alpha dropped for 1/3 channels and
/// set to 255 when a 4-channel input gets an image without alpha.
std::vector<float> imageToTensor(const Image& img, const ImageLayout& layout);

}  // namespace kiln::calib
