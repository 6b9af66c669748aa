// Handlers of the model-script commands that change a network's input (script_input.cpp):
// input_conversion, resize.
#pragma once

#include "compiler/optimize/script_commands.h"

namespace kiln::optimize {

/// input_conversion([input,] conversion): bgr_to_rgb / rgb_to_bgr (channel swap), yuv*_to_rgb|bgr
/// (a color_conversion layer), <format>_to_hailo_yuv and tf_rgbx_to_hailo_rgb (a
/// format_conversion layer: the input becomes the camera's raw frame), <format>_to_rgb (both).
void inputConversion(ScriptContext& c);
/// resize([input,] resize_shapes=[H, W] [, resize_method=bilinear|nearest_neighbor]): the input
/// becomes H x W and a resize layer brings it to the size the network had.
void resizeInput(ScriptContext& c);

}  // namespace kiln::optimize
