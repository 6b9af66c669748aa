// The command table. Keys and values follow the Hailo Dataflow Compiler's model-script reference as
// far as alls-language.md describes it; resource (§3b) and placement (§3c) commands accept any key.
#include "alls/commands.h"

namespace kiln::alls {
namespace {

using Values = std::vector<std::string>;

const Values kPolicy = {"enabled", "disabled"};
const Values kBool = {"True", "False", "true", "false", "enabled", "disabled"};
const Values kEngines = {"cpu", "nn_core", "auto"};
// The conversions Kiln applies (compiler/optimize/script_input.cpp).
const Values kAppliedConversions = {"bgr_to_rgb",
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
                                    "tf_rgbx_to_hailo_rgb"};
// Every conversion the validator knows: the applied ones and those only reported
// (tf_rgb_to_hailo_rgb: no definition of it was found to implement).
const Values kConversions = [] {
  Values v = kAppliedConversions;
  v.push_back("tf_rgb_to_hailo_rgb");
  return v;
}();

KeySpec K(std::string name, Values values = {}) {
  return KeySpec{std::move(name), std::move(values)};
}

// A closed set whose key also takes a list of its values (loss_types=[l2, l2rel]).
KeySpec Ks(std::string name, Values values) {
  KeySpec k = K(std::move(name), std::move(values));
  k.list = true;
  return k;
}

KeySpec typed(std::string name, ValueType type, double min, double max, bool minExclusive = false) {
  KeySpec k = K(std::move(name));
  k.type = type;
  k.min = min;
  k.max = max;
  k.minExclusive = minExclusive;
  return k;
}

// Counts (samples, batches, epochs, sizes) stay far below the int range the appliers convert to.
constexpr double kMaxCount = 1000000;
constexpr double kHuge = 1e308;

KeySpec Int(std::string name, double min, double max = kMaxCount) {
  return typed(std::move(name), ValueType::Integer, min, max);
}
KeySpec Num(std::string name, double min = -kHuge, double max = kHuge) {
  return typed(std::move(name), ValueType::Number, min, max);
}
// A fraction in [0, 1].
KeySpec Frac(std::string name) {
  return Num(std::move(name), 0, 1);
}
// A utilization the resource plan divides by: (0, 2] (above 1 as in the reference's scripts).
KeySpec Util(std::string name) {
  return typed(std::move(name), ValueType::Number, 0, 2, true);
}
// A utilization a plan goal may set above 1 (the reference's scripts hold 1.2 and 1.125, and
// rounding leaves 1.0000000000000007): [0, 2], the plan says what it does with it.
KeySpec Goal(std::string name) {
  return Num(std::move(name), 0, 2);
}
KeySpec Range(std::string name) {
  return typed(std::move(name), ValueType::Range, -kHuge, kHuge);
}
KeySpec Nums(std::string name) {
  return typed(std::move(name), ValueType::Numbers, -kHuge, kHuge);
}
KeySpec Ints(std::string name, double min) {
  return typed(std::move(name), ValueType::Integers, min, kMaxCount);
}

// An applied feature with keys Kiln accepts but does not act on.
FeatureSpec ignoring(FeatureSpec f, std::vector<std::string> keys, std::string why) {
  f.ignoredKeys = std::move(keys);
  f.ignoredWhy = std::move(why);
  return f;
}

FeatureSpec F(std::string name, bool applied, std::vector<KeySpec> keys = {}) {
  FeatureSpec f;
  f.name = std::move(name);
  f.applied = applied;
  f.keys = std::move(keys);
  return f;
}

// A feature Kiln does not apply, with the reason its warning gives.
FeatureSpec notApplied(std::string name, std::vector<KeySpec> keys, std::string why) {
  FeatureSpec f = F(std::move(name), false, std::move(keys));
  f.why = std::move(why);
  return f;
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

// A resource command kiln compiler's plan reads: its keys are declared, so a typo is an error.
CommandSpec planned(std::string name, std::vector<KeySpec> keys) {
  CommandSpec c = open(std::move(name), Category::Recorded);
  c.anyKeys = false;
  c.planned = true;
  c.keys = std::move(keys);
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
               K("use_16bit_bias", kBool), Range("force_range_in"), Int("force_range_index", 0),
               Range("force_range_out"), Int("weight_group_size", 1), K("activation_fit"),
               Int("max_elementwise_feed_repeat", 1), Num("null_channels_cutoff_factor", 0),
               K("activation_clipping_mode"), Range("activation_clipping_values")}));
  t.push_back(
      applied("model_optimization_flavor",
              {K("optimization_level", {"-100", "0", "1", "2", "3", "4"}),
               K("compression_level", {"0", "1", "2", "3", "4", "5"}), Int("batch_size", 1)}));
  t.push_back(featureCommand(
      "model_optimization_config", true, {},
      {F("calibration", true,
         {Int("calibset_size", 1), Int("batch_size", 1), K("use_acceleras", kBool)}),
       F("globals", true,
         {K("output_16bit", kPolicy), K("output_encoding_vector", kPolicy), K("multiproc_policy"),
          K("gpu_policy")}),
       F("compression_params", false,
         {Frac("auto_4bit_weights_ratio"), Frac("auto_16bit_weights_ratio")}),
       F("checker_cfg", false,
         {K("policy", kPolicy), K("analyze_mode", {"simple", "advanced"}), Int("dataset_size", 1),
          Int("batch_size", 1), K("batch_norm_checker", kBool), K("layers")}),
       // The reference shifts accumulators that would exceed its accumulator width; Kiln's
       // accumulators are 64-bit and its requantization product 128-bit (docs/arithmetic.md §3),
       // so there is nothing to shift: accepted, no effect needed.
       F("negative_exponent", true, {K("layers"), Int("rank", 0)})}));
  t.push_back(featureCommand(
      "pre_quantization_optimization", true,
      {K("policy", kPolicy), K("layers"), K("mode"), Range("clipping_values")},
      {ignoring(F("equalization", true, {K("equalization_target", {"activation", "weights"})}),
                {"layers", "mode", "clipping_values", "equalization_target"},
                "Kiln switches cross-layer equalization for the whole network"),
       ignoring(F("activation_clipping", true,
                  {K("mode", {"percentile", "manual", "percentile_force", "disabled"}),
                   K("recollect_stats", kBool)}),
                {"recollect_stats"},
                "Kiln clips the statistics of its one calibration pass and does not collect "
                "them again"),
       F("weights_clipping", true, {K("mode", {"mmse", "mmse_if4b", "percentile", "manual"})}),
       F("dead_channels_removal", false), F("zero_static_channels", false),
       F("dead_layers_removal", false),
       // Accepted with a meaning (compiler/optimize/script_commands.cpp says which): the
       // reference's decompositions of what Kiln runs as one exact integer kernel.
       F("layer_norm_decomposition", true,
         {K("equalization", kPolicy),
          K("bit_decomposition_mode", {"split_precision", "uniform_precision"}),
          K("eq_consumer", kBool)}),
       F("layer_decomposition", true), F("conv_decomposition", false),
       F("ew_add_fusing", false, {K("infusible_ew_add_type")}),
       F("matmul_correction", true, {K("correction_type")}),
       notApplied("matmul_equalization", {K("matmul_bias")},
                  "Kiln quantizes each matmul operand per tensor and does not move scale "
                  "between them"),
       F("global_avgpool_reduction", true, {Ints("division_factors", 1)}),
       F("se_optimization", false, {K("method"), Int("count", 0), Int("tile_height", 1)}),
       F("smart_softmax_stats", false),
       F("resolution_reduction", false, {Ints("shape", 1), K("interpolation")}),
       F("add_shortcut_layer", false), F("switch_concat_with_add", false),
       F("split_ew_mult_by_bit_significance", false, {Int("num_splits", 1)}),
       F("split_fused_activation", false), F("defuse", false, {Int("num_splits", 1)}),
       F("mix_precision", false), F("use_prequantized_weights", false)}));
  t.push_back(featureCommand(
      "post_quantization_optimization", true,
      {K("policy", kPolicy), K("layers"), Int("dataset_size", 1), Int("batch_size", 1)},
      {ignoring(F("bias_correction", true, {K("cache_compression", kPolicy)}),
                {"layers", "dataset_size", "batch_size", "cache_compression"},
                "Kiln corrects every eligible layer on up to 16 calibration samples"),
       notApplied(
           "finetune",
           {Num("learning_rate", 0), Int("epochs", 0), K("loss_layer_names"),
            // The zoo writes L2REL as well as l2rel: the reference compares without case.
            Ks("loss_types", {"l2", "l2rel", "ce", "cosine", "l2rel_channelwise_weighted", "L2",
                              "L2REL", "CE", "COSINE"}),
            Nums("loss_factors"), K("train_scales", kBool), K("train_bias", kBool),
            K("def_loss_type"), K("layers_to_freeze"), K("native_layers"), Int("val_images", 0),
            Int("val_batch_size", 1), K("optimizer"), Int("warmup_epochs", 0), Num("warmup_lr", 0),
            Num("decay_rate", 0), Num("decay_epochs", 0), K("lr_schedule"),
            Int("shuffle_buffer_size", 0), K("stop_gradient_at_loss", kBool), K("bias_only", kBool),
            K("force_pruning", kBool), K("native_activations"), K("cache_compression", kPolicy),
            K("meta_arch"), K("use_acceleras", kBool)},
           "fine-tuning is not run, Kiln does not train; the reference's level-2 step maps to "
           "Kiln's error-compensating rounding: optimization_level=2 or adaround"),
       F("adaround", true,
         {Int("epochs", 0), Frac("warmup"), Num("weight", 0), Range("b_range"), Frac("decay_start"),
          K("train_bias", kBool), Int("bias_correction_count", 0), K("mode"),
          K("cache_compression", kPolicy), K("eager", kBool)}),
       F("mix_precision_search", false, {Num("snr_cap"), Num("output_regulizer"), K("optimizer")}),
       F("train_encoding", false, {Num("learning_rate", 0), Int("epochs", 0)})}));
  t.push_back(applied("change_output_activation", {},
                      {PositionalSpec{-1, "activation", {"sigmoid", "tanh", "linear"}, {}}}));
  t.push_back(applied("input_conversion", {K("emulator_support", kBool)},
                      {PositionalSpec{-1, "conversion", kConversions, kAppliedConversions}}));
  {
    CommandSpec c = applied(
        "resize", {Ints("resize_shapes", 1), K("resize_method", {"bilinear", "nearest_neighbor"}),
                   K("engine", kEngines), K("pixels_mode")});
    t.push_back(c);
  }
  {
    // softmax is applied (a softmax layer in the network); argmax is reported.
    t.push_back(
        applied("logits_layer", {Int("axis", -8, 8), K("engine", kEngines)},
                {PositionalSpec{1, "logits function", {"softmax", "argmax"}, {"softmax"}}}));
  }
  // nms_postprocess: box decoding + NMS on the host (compiler/optimize/nms_script.h).
  t.push_back(applied(
      "nms_postprocess",
      {K("meta_arch"), K("engine", kEngines), Int("classes", 1), K("config_path"),
       Frac("nms_scores_th"), Frac("nms_iou_th"), Ints("image_dims", 1),
       Int("max_proposals_per_class", 1), Int("max_total_output_proposals", 1), K("bbox_decoders"),
       K("output_original_name"), Frac("mask_threshold"), K("bbox_decoding_only", kBool)}));
  // set_seed seeds the random calibration set (--use-random-calib-set); nothing else in Kiln
  // draws random numbers.
  t.push_back(applied("set_seed", {Int("seed", 0, 4294967295.0)}));
  for (const char* name : {"remove_node", "transpose"}) {
    CommandSpec c = applied(name, {});
    c.applied = false;
    if (std::string(name) == "remove_node")
      c.why =
          "it deletes a layer of the reference's parsed graph (the zoo's scripts delete the "
          "format_conversion reshapes its parser inserts, which Kiln's importer does not create); "
          "Kiln does not delete layers";
    t.push_back(c);
  }

  // ---- §3b: resource planning, recorded for the compiler ----
  // The three the plan reads declare their keys (the Dataflow Compiler's; docs/hw-arch.md says
  // which the plan uses). max_utilization=0.0, as compiler-written scripts have it, means "not
  // set"; the specific utilizations must be above 0.
  KeySpec fps = typed("fps", ValueType::Number, 0, kHuge, true);
  fps.nullable = true;  // fps=None / null: no target (51 scripts of the zoo)
  t.push_back(planned(
      "performance_param",
      {fps, K("compiler_optimization_level", {"0", "1", "2", "max"}), K("optimization_level"),
       Int("optimize_for_batch", 1, 1024), K("optimize_for_power", kBool)}));
  t.push_back(planned(
      "resources_param",
      {Goal("max_utilization"), Util("max_memory_utilization"), Util("max_compute_utilization"),
       Util("max_control_utilization"), Goal("max_compute_16bit_utilization"),
       Goal("max_apu_utilization"), Goal("max_input_aligner_utilization"), K("strategy")}));
  t.push_back(planned(
      "context_switch_param",
      {K("mode", {"allowed", "automatic", "enabled", "disabled", "manual"}),
       Goal("max_utilization"), Goal("max_memory_utilization"), Goal("max_compute_utilization"),
       Goal("max_control_utilization"), Goal("goal_network_memory_utilization"),
       Goal("goal_network_compute_utilization"), Goal("goal_network_control_utilization"),
       Goal("goal_network_weights_utilization"), Int("slotter_chances", 0)}));
  // The reference compiler's allocator knobs: recorded, no effect on Kiln's plan (docs/alls.md).
  // The keys the zoo's scripts use are declared; others are accepted too.
  {
    CommandSpec c = open("allocator_param", Category::Recorded);
    for (const char* k : {"auto_split_const_inputs",
                          "automatic_ddr",
                          "automatic_l4_portals",
                          "automatic_reshapes",
                          "automatic_resize_reshapes",
                          "calculate_power",
                          "defuse_by_validator",
                          "disable_row_per_cut",
                          "enable_auto_spatial_collapse",
                          "enable_auto_spatial_reshapes",
                          "enable_automatic_offdevice_outputs",
                          "enable_axis_upsize",
                          "enable_collapser",
                          "enable_defuse_with_slack",
                          "enable_fixer",
                          "enable_lanes",
                          "enable_lcu_ecc",
                          "enable_muxer",
                          "enable_partial_row_buffers",
                          "enable_post_split_average_buffers",
                          "enable_swapper",
                          "force_map_on_mirror",
                          "optimize_pipeline_stoppage",
                          "validate",
                          "width_splitter_defuse"})
      c.keys.push_back(K(k, kBool));
    for (const char* k : {"automatic_ddr_l3_cuts_threshold",
                          "automatic_l4_portals_l3_cuts_threshold", "input_layer_max_successors",
                          "max_auto_defuse", "max_auto_merge_depth", "ppu_reshape_slack", "seed"})
      c.keys.push_back(Int(k, 0));
    for (const char* k : {"merge_max_layer_utilization", "merge_max_memory_utilization",
                          "merge_min_layer_utilization"})
      c.keys.push_back(Num(k, 0, 2));
    // Seconds, or with a unit: 600, 25m, 5h.
    for (const char* k : {"cluster_timeout", "splitter_timeout", "timeout"}) c.keys.push_back(K(k));
    t.push_back(c);
  }
  {
    CommandSpec c = open("platform_param", Category::Recorded);
    c.keys = {Int("hef_version", 0)};
    t.push_back(c);
  }
  for (const char* name : {"hef_param", "network_group", "buffer_calc_param"})
    t.push_back(open(name, Category::Recorded));

  // ---- §3c: placement written by a compiler ----
  // The keys the zoo's scripts use are declared (their values checked); others are accepted.
  {
    const Values kAllowed = {"allowed", "enabled", "disabled"};
    CommandSpec c = open("compilation_param", Category::NotApplied);
    c.keys = {
        K("balance_output_multisplit", kAllowed),
        K("buffer_in_l4", kBool),
        K("compress_l3_weights", kAllowed),
        Int("defuse_num_layers", 0),
        K("defuse_spatial_w", kBool),
        K("enable_ew_add_optimization", kAllowed),
        K("hw_layer_type_list"),
        K("layer_output_buffers_format", {"automatic", "consecutive", "offset", "row_per_cut"}),
        K("mixed_mem", kAllowed),
        K("no_contexts", kAllowed),
        Int("number_of_apus", 0),
        Int("number_of_input_aligners", 0),
        Int("number_of_subclusters", 0),
        K("parallel_activation", kAllowed),
        K("resize_bilinear_streaming", kBool),
        K("resources_allocation_strategy"),
        K("use_16x4_sc", kAllowed)};
    t.push_back(c);
  }
  {
    CommandSpec c = open("defuse", Category::NotApplied);
    c.keys = {K("axis"), K("defuse_type"), K("splitter", kBool), Int("num_splits", 1)};
    t.push_back(c);
  }
  {
    CommandSpec c = open("defuse_block", Category::NotApplied);
    c.keys = {Int("defuse_count", 1)};
    t.push_back(c);
  }
  {
    CommandSpec c = open("format_conversion", Category::NotApplied);
    c.keys = {K("collapse", kBool), Ints("input_windows", 1), Ints("output_windows", 1)};
    t.push_back(c);
  }
  for (const char* name : {"buffers",
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
