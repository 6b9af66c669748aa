// The command table. Keys and values follow the Hailo Dataflow Compiler's model-script reference as
// far as alls-language.md describes it; resource (§3b) and placement (§3c) commands accept any key.
#include "alls/commands.h"

namespace kiln::alls {
namespace {

using Values = std::vector<std::string>;

const Values kPolicy = {"enabled", "disabled"};
const Values kBool = {"True", "False", "true", "false", "enabled", "disabled"};
const Values kEngines = {"cpu", "nn_core", "auto"};
const Values kConversions = {"bgr_to_rgb",
                             "rgb_to_bgr",
                             "yuv_to_rgb",
                             "yuv_to_bgr",
                             "yuv_full_range_to_rgb",
                             "yuv_full_range_to_bgr",
                             "yuv601_to_rgb",
                             "yuv601_to_bgr",
                             "yuv709_to_rgb",
                             "yuv709_to_bgr",
                             "yuv709_full_range_to_rgb",
                             "yuv709_full_range_to_bgr",
                             "yuy2_to_rgb",
                             "yuy2_to_hailo_yuv",
                             "nv12_to_rgb",
                             "nv12_to_hailo_yuv",
                             "nv21_to_rgb",
                             "nv21_to_hailo_yuv",
                             "i420_to_rgb",
                             "i420_to_hailo_yuv",
                             "tf_rgbx_to_hailo_rgb",
                             "tf_rgb_to_hailo_rgb"};

KeySpec K(std::string name, Values values = {}) {
  return KeySpec{std::move(name), std::move(values)};
}

FeatureSpec F(std::string name, bool applied, std::vector<KeySpec> keys = {}) {
  return FeatureSpec{std::move(name), applied, std::move(keys)};
}

CommandSpec applied(std::string name, std::vector<KeySpec> keys,
                    std::vector<PositionalSpec> pos = {}) {
  CommandSpec c;
  c.name = std::move(name);
  c.category = Category::Applied;
  c.applied = true;
  c.keys = std::move(keys);
  c.positional = std::move(pos);
  return c;
}

CommandSpec featureCommand(std::string name, bool applied, std::vector<KeySpec> common,
                           std::vector<FeatureSpec> features) {
  CommandSpec c;
  c.name = std::move(name);
  c.category = Category::Applied;
  c.applied = applied;
  c.keys = std::move(common);
  c.features = std::move(features);
  return c;
}

CommandSpec open(std::string name, Category cat) {
  CommandSpec c;
  c.name = std::move(name);
  c.category = cat;
  c.applied = false;
  c.anyKeys = true;
  return c;
}

std::vector<CommandSpec> buildTable() {
  std::vector<CommandSpec> t;

  // ---- §3a: network and numerics ----
  t.push_back(applied("normalization", {}));
  t.push_back(
      applied("quantization_param",
              {K("precision_mode", precisionModes()),
               K("bias_mode", {"double_scale_initialization", "single_scale_decomposition"}),
               K("use_16bit_bias", kBool), K("force_range_in"), K("force_range_index"),
               K("force_range_out"), K("weight_group_size"), K("activation_fit"),
               K("max_elementwise_feed_repeat"), K("null_channels_cutoff_factor"),
               K("activation_clipping_mode"), K("activation_clipping_values")}));
  t.push_back(applied("model_optimization_flavor",
                      {K("optimization_level", {"-100", "0", "1", "2", "3", "4"}),
                       K("compression_level", {"0", "1", "2", "3", "4", "5"}), K("batch_size")}));
  t.push_back(featureCommand(
      "model_optimization_config", true, {},
      {F("calibration", true, {K("calibset_size"), K("batch_size")}),
       F("globals", true,
         {K("output_16bit", kPolicy), K("output_encoding_vector", kPolicy), K("multiproc_policy"),
          K("gpu_policy")}),
       F("compression_params", true, {K("auto_4bit_weights_ratio"), K("auto_16bit_weights_ratio")}),
       F("checker_cfg", true,
         {K("policy", kPolicy), K("analyze_mode", {"simple", "advanced"}), K("dataset_size"),
          K("batch_size"), K("batch_norm_checker", kBool), K("layers")}),
       F("negative_exponent", true, {K("layers"), K("rank")})}));
  t.push_back(featureCommand(
      "pre_quantization_optimization", true,
      {K("policy", kPolicy), K("layers"), K("mode"), K("clipping_values")},
      {F("equalization", true),
       F("activation_clipping", true,
         {K("mode", {"percentile", "manual", "percentile_force"}), K("recollect_stats", kBool)}),
       F("weights_clipping", true, {K("mode", {"mmse", "mmse_if4b", "percentile", "manual"})}),
       F("dead_channels_removal", false),
       F("zero_static_channels", false),
       F("dead_layers_removal", false),
       F("layer_norm_decomposition", false,
         {K("equalization", kPolicy), K("bit_decomposition_mode")}),
       F("layer_decomposition", false),
       F("conv_decomposition", false),
       F("ew_add_fusing", false),
       F("matmul_correction", false, {K("correction_type")}),
       F("matmul_equalization", false, {K("matmul_bias")}),
       F("global_avgpool_reduction", false, {K("division_factors")}),
       F("se_optimization", false, {K("method")}),
       F("smart_softmax_stats", false),
       F("resolution_reduction", false, {K("shape"), K("interpolation")}),
       F("add_shortcut_layer", false),
       F("switch_concat_with_add", false),
       F("split_ew_mult_by_bit_significance", false, {K("num_splits")}),
       F("split_fused_activation", false),
       F("defuse", false, {K("num_splits")}),
       F("mix_precision", false),
       F("use_prequantized_weights", false)}));
  t.push_back(featureCommand(
      "post_quantization_optimization", true,
      {K("policy", kPolicy), K("layers"), K("dataset_size"), K("batch_size")},
      {F("bias_correction", true, {K("cache_compression", kPolicy)}),
       F("finetune", false,
         {K("learning_rate"),       K("epochs"),
          K("loss_layer_names"),    K("loss_types", {"l2", "l2rel", "ce", "cosine"}),
          K("loss_factors"),        K("train_scales", kBool),
          K("train_bias", kBool),   K("def_loss_type"),
          K("layers_to_freeze"),    K("native_layers"),
          K("val_images"),          K("val_batch_size"),
          K("optimizer"),           K("warmup_epochs"),
          K("warmup_lr"),           K("decay_rate"),
          K("decay_epochs"),        K("lr_schedule"),
          K("shuffle_buffer_size"), K("stop_gradient_at_loss", kBool),
          K("bias_only", kBool),    K("force_pruning", kBool),
          K("native_activations"),  K("cache_compression", kPolicy)}),
       F("adaround", false,
         {K("epochs"), K("warmup"), K("weight"), K("b_range"), K("decay_start"),
          K("train_bias", kBool), K("bias_correction_count"), K("mode"),
          K("cache_compression", kPolicy), K("eager", kBool)}),
       F("mix_precision_search", false, {K("snr_cap"), K("output_regulizer"), K("optimizer")}),
       F("train_encoding", false, {K("learning_rate"), K("epochs")})}));
  t.push_back(applied("change_output_activation", {},
                      {PositionalSpec{-1, "activation", {"sigmoid", "tanh", "linear"}, {}}}));
  t.push_back(
      applied("input_conversion", {K("emulator_support", kBool)},
              {PositionalSpec{-1, "conversion", kConversions, {"bgr_to_rgb", "rgb_to_bgr"}}}));
  {
    CommandSpec c =
        applied("resize", {K("resize_shapes"), K("resize_method", {"bilinear", "nearest_neighbor"}),
                           K("engine", kEngines), K("pixels_mode")});
    c.applied = false;
    t.push_back(c);
  }
  t.push_back(applied("logits_layer", {K("axis"), K("engine", kEngines)},
                      {PositionalSpec{1, "logits function", {"softmax", "argmax"}, {}}}));
  {
    CommandSpec c = applied("nms_postprocess",
                            {K("meta_arch"), K("engine", kEngines), K("classes"), K("config_path"),
                             K("nms_scores_th"), K("nms_iou_th"), K("image_dims"),
                             K("max_proposals_per_class"), K("max_total_output_proposals"),
                             K("bbox_decoders"), K("output_original_name"), K("mask_threshold")});
    c.applied = false;
    t.push_back(c);
  }
  for (const char* name : {"remove_node", "set_seed", "transpose"}) {
    CommandSpec c = applied(name, name == std::string("set_seed") ? std::vector<KeySpec>{K("seed")}
                                                                  : std::vector<KeySpec>{});
    c.applied = false;
    t.push_back(c);
  }

  // ---- §3b: resource planning, recorded for the compiler ----
  for (const char* name :
       {"performance_param", "resources_param", "context_switch_param", "allocator_param",
        "hef_param", "platform_param", "network_group", "buffer_calc_param"})
    t.push_back(open(name, Category::Recorded));

  // ---- §3c: placement written by a compiler ----
  for (const char* name : {"defuse",
                           "defuse_block",
                           "compilation_param",
                           "buffers",
                           "context",
                           "place",
                           "bucket",
                           "concat",
                           "shortcut",
                           "feature_splitter",
                           "shape_splitter",
                           "join",
                           "merge",
                           "portal",
                           "l4_portal",
                           "ddr",
                           "mux_demux",
                           "output_mux",
                           "output_layer",
                           "transpose_concat",
                           "format_conversion",
                           "convert_to_dense",
                           "spatial_reshape_flow_params",
                           "yuv_to_rgb",
                           "resize_input",
                           "optimize_buffers"})
    t.push_back(open(name, Category::NotApplied));
  return t;
}

}  // namespace

const std::vector<CommandSpec>& commandTable() {
  static const std::vector<CommandSpec> table = buildTable();
  return table;
}

const CommandSpec* findCommand(const std::string& name) {
  for (const CommandSpec& c : commandTable())
    if (c.name == name) return &c;
  return nullptr;
}

const FeatureSpec* findFeature(const CommandSpec& cmd, const std::string& feature) {
  for (const FeatureSpec& f : cmd.features)
    if (f.name == feature) return &f;
  return nullptr;
}

const std::vector<std::string>& precisionModes() {
  static const std::vector<std::string> modes = {"a8_w8",  "a8_w4",      "a16_w16",
                                                 "a16_w8", "a16_w8_a16", "a8_w8_a16"};
  return modes;
}

const char* categoryName(Category c) {
  switch (c) {
    case Category::Applied:
      return "network/numerics";
    case Category::Recorded:
      return "resource planning";
    case Category::NotApplied:
      return "placement";
  }
  return "";
}

}  // namespace kiln::alls
