// Model scripts from the bad-input campaign (issue 12): deep nesting, a key repeated many times,
// CR-only line ends, numbers of the wrong type or range, NUL and stray bytes, very long lines,
// keys Kiln accepts but does not act on, and what `kiln compiler` makes of optimization commands.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "alls/alls.h"
#include "alls/lexer.h"

namespace kiln::alls {
namespace {

// A string literal with its embedded NUL bytes.
template <size_t N>
std::string bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

// The message of the ScriptError parsing `text` throws ("" when it parses).
std::string parseError(const std::string& text) {
  try {
    parseScript(text, "bad.alls");
  } catch (const ScriptError& e) {
    return e.what();
  }
  return "";
}

std::vector<Diagnostic> check(const std::string& text, Stage stage = Stage::Optimize) {
  return validateScript(parseScript(text, "bad.alls"), stage);
}

// The one error `text` gives, formatted ("" and a test failure otherwise).
std::string oneError(const std::string& text) {
  const auto d = check(text);
  EXPECT_EQ(d.size(), 1u) << text;
  if (d.size() != 1 || d[0].severity != Diagnostic::Error) return "";
  return formatDiagnostic(d[0]);
}

// ---- item 2: nesting depth ---------------------------------------------------------------------

TEST(AllsBadInput, DeepNestingIsAnErrorNotAStackOverflow) {
  // The campaign's input: 50,000 '[' after `quantization_param(` (killed the parser).
  const std::string msg = parseError("quantization_param(" + std::string(50000, '['));
  EXPECT_EQ(msg.rfind("bad.alls:1:83: error: brackets nested too deeply: this '[' would open "
                      "level 65, but at most 64 levels of '(' and '[' are accepted\n",
                      0),
            0u)
      << msg.substr(0, 300);
  EXPECT_LT(msg.size(), 600u);  // the 50,000-character line is quoted around the caret only
  // As deep as allowed still parses.
  const std::string ok =
      "x(" + std::string(kMaxNesting - 1, '[') + "1" + std::string(kMaxNesting - 1, ']') + ")\n";
  EXPECT_EQ(parseError(ok), "");
  // Parentheses count too, and so do brackets over several lines.
  EXPECT_NE(parseError(std::string(100, '(')).find("brackets nested too deeply"),
            std::string::npos);
  std::string lines = "a(";
  for (int i = 0; i < 100; ++i) lines += "[\n";
  EXPECT_NE(parseError(lines).find("bad.alls:64:1: error: brackets nested too deeply"),
            std::string::npos);
}

// ---- item 3: bounded error output ---------------------------------------------------------------

TEST(AllsBadInput, AKeyRepeatedManyTimesIsOneError) {
  // The campaign's input: one key n times gave n(n-1)/2 errors, each with the line (n = 3000: OOM).
  for (int n : {2, 200, 3000}) {
    std::string text = "model_optimization_config(calibration";
    for (int i = 0; i < n; ++i) text += ", calibset_size=64";
    const auto d = check(text + ")\n");
    ASSERT_EQ(d.size(), 1u) << n;
    EXPECT_EQ(d[0].message,
              fmt::format("key 'calibset_size' is given {} (first at line 1, column 40)",
                          n == 2 ? std::string("twice") : fmt::format("{} times", n)));
    EXPECT_LT(formatDiagnostic(d[0]).size(), 600u);  // the long line is cut around the caret
  }
}

TEST(AllsBadInput, DiagnosticsAreCappedWithACount) {
  std::string text;
  for (int i = 0; i < 500; ++i) text += fmt::format("frobnicate{}(x=1)\n", i);
  for (int i = 0; i < 70; ++i) text += "defuse(conv1, 2)\n";
  const auto d = check(text);
  ASSERT_EQ(d.size(), 2 * kMaxDiagnostics + 1);
  EXPECT_EQ(formatDiagnostic(d.back()),
            "bad.alls: error: and 450 more errors and 20 more warnings (only the first 50 errors "
            "and 50 warnings are shown)");
}

TEST(AllsBadInput, LongLinesAreCutAroundTheCaret) {
  const std::string pad(1000, ' ');
  const std::string msg = oneError("quantization_param(conv1," + pad + "precision_mode=a8_w9)\n");
  // The first line, then the source excerpt cut to 200 characters with "..." and the caret under
  // the bad value.
  const size_t nl = msg.find('\n');
  EXPECT_EQ(
      msg.substr(0, nl).rfind("bad.alls:1:1041: error: bad value 'a8_w9' for precision_mode", 0),
      0u)
      << msg;
  const std::string excerpt = msg.substr(nl + 1, msg.find('\n', nl + 1) - nl - 1);
  const std::string caret = msg.substr(msg.rfind('\n') + 1);
  EXPECT_EQ(excerpt.rfind("...", 0), 0u);
  EXPECT_LE(excerpt.size(), kMaxQuotedLine + 6);
  EXPECT_EQ(excerpt.substr(caret.size() - 1, 5), "a8_w9");
  // Quoted values are cut too.
  const std::string longName(5000, 'q');
  const std::string unknown = oneError(longName + "(x=1)\n");
  EXPECT_LT(unknown.size(), 600u);
  EXPECT_NE(unknown.find("unknown command 'qqqq"), std::string::npos);
}

// ---- NUL and stray bytes ----------------------------------------------------------------------

TEST(AllsBadInput, NonPrintableBytesAreEscapedNotCutting) {
  // A NUL used to end the message (what() is a C string) right after "unexpected character '".
  const std::string nul = parseError(bytes("quantization_param(conv1,\0 x=1)\n"));
  EXPECT_EQ(nul,
            "bad.alls:1:26: error: unexpected character '\\x00'; expected a name, a number, a "
            "string, '(', ')', '[', ']', '{', ',' or '='\n"
            "quantization_param(conv1,\\x00 x=1)\n"
            "                         ^");
  EXPECT_EQ(nul.find('\0'), std::string::npos);
  // Inside a string value: the message names it escaped; the caret still lines up.
  const auto d = check(bytes("set_seed(\"a\0b\x01\", seed=\"x\xff\")\n"));
  ASSERT_EQ(d.size(), 1u);
  const std::string m = formatDiagnostic(d[0]);
  EXPECT_EQ(m,
            "bad.alls:1:23: error: seed expects a whole number from 0 to 4294967295, found string "
            "'x\\xff'\n"
            "set_seed(\"a\\x00b\\x01\", seed=\"x\\xff\")\n"
            "                            ^");  // under the quote, past the escapes
  // Valid UTF-8 is kept as it is.
  EXPECT_EQ(printable("caf\xc3\xa9 \xe2\x89\xa5 1"), "caf\xc3\xa9 \xe2\x89\xa5 1");
  EXPECT_EQ(printable("a\xc3"), "a\\xc3");
}

// ---- item 6: line ends ------------------------------------------------------------------------

TEST(AllsBadInput, CrOnlyLineEndsWithACommentFirst) {
  // The campaign's input: CR-only line ends and a comment on the first line hid the whole script.
  for (const std::string eol : {"\r", "\n", "\r\n"}) {
    const std::string text = "# mixed precision" + eol + "quantization_param(conv2, " + eol +
                             "  precision_mode=a16_w16)" + eol + "frobnicate(x=1)" + eol;
    const Script s = parseScript(text, "cr.alls");
    ASSERT_EQ(s.statements.size(), 2u) << int(eol[0]);
    EXPECT_EQ(s.statements[0].command, "quantization_param");
    EXPECT_EQ(s.statements[0].pos.line, 2);
    EXPECT_EQ(s.statements[0].sourceLine, "quantization_param(conv2, \n  precision_mode=a16_w16)");
    EXPECT_EQ(s.statements[0].find("precision_mode")->pos.line, 3);
    const auto d = validateScript(s);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(formatDiagnostic(d[0]).rfind("cr.alls:4:1: error: unknown command 'frobnicate'", 0),
              0u);
  }
  // Mixed line ends count one line each; a CR ends a comment and an unterminated string.
  const Script mixed = parseScript("# a\rset_seed(seed=1)\r\n\n# b\rset_seed(seed=2)", "m.alls");
  ASSERT_EQ(mixed.statements.size(), 2u);
  EXPECT_EQ(mixed.statements[1].pos.line, 5);
  EXPECT_NE(parseError("nms_postprocess(\"cfg.json\r)\r").find("1:17: error: unterminated string"),
            std::string::npos);
}

// ---- item 7: numbers --------------------------------------------------------------------------

TEST(AllsBadInput, NumbersAreCheckedForTypeAndRange) {
  EXPECT_EQ(oneError("model_optimization_config(calibration, calibset_size=-1)\n"),
            "bad.alls:1:54: error: calibset_size expects a whole number from 1 to 1000000, found "
            "-1\n"
            "model_optimization_config(calibration, calibset_size=-1)\n"
            "                                                     ^");
  EXPECT_NE(oneError("model_optimization_config(calibration, calibset_size=18446744073709551617)\n")
                .find("calibset_size expects a whole number from 1 to 1000000, found "
                      "18446744073709551617"),
            std::string::npos);
  EXPECT_NE(oneError("model_optimization_config(calibration, calibset_size=[1,2])\n")
                .find("calibset_size expects a whole number from 1 to 1000000, found the list "
                      "[1,2]"),
            std::string::npos);
  EXPECT_NE(oneError("model_optimization_config(calibration, calibset_size=2.5)\n")
                .find("found 2.5, not a whole number"),
            std::string::npos);
  EXPECT_NE(oneError("model_optimization_config(calibration, calibset_size=many)\n")
                .find("found name 'many'"),
            std::string::npos);
  EXPECT_NE(oneError("model_optimization_flavor(optimization_level=[1, 2])\n")
                .find("optimization_level takes one value, found the list [1, 2]; accepted "
                      "values: -100, 0, 1, 2, 3, 4"),
            std::string::npos);
  EXPECT_NE(oneError("quantization_param(conv1, force_range_out=[1, 0])\n")
                .find("force_range_out expects [low, high] with low <= high, found [1, 0]"),
            std::string::npos);
  EXPECT_NE(oneError("quantization_param(conv1, force_range_out=[0, 1, 2])\n")
                .find("force_range_out expects [low, high] (two numbers), found [0, 1, 2]"),
            std::string::npos);
  EXPECT_NE(oneError("quantization_param(conv1, force_range_in=[0, 1e999])\n")
                .find("force_range_in expects [low, high] with a number, found 1e999, beyond the "
                      "range of a number"),
            std::string::npos);
  EXPECT_NE(oneError("resources_param(max_memory_utilization=0)\n")
                .find("max_memory_utilization expects a number in (0, 2], found 0"),
            std::string::npos);
  EXPECT_NE(oneError("performance_param(fps=-3)\n").find("fps expects a number > 0, found -3"),
            std::string::npos);
  EXPECT_NE(oneError("nms_postprocess(\"a.json\", image_dims=[640, 0])\n")
                .find("image_dims expects a list of whole numbers from 1 to 1000000, found 0"),
            std::string::npos);
  // What real scripts write stays accepted.
  EXPECT_FALSE(
      hasErrors(check("model_optimization_config(calibration, batch_size=8, calibset_size=2048)\n"
                      "model_optimization_config(calibration, calibset_size=64.0)\n"
                      "resources_param(max_utilization=0.0, max_memory_utilization=0.9)\n"
                      // The public Model Zoo's scripts (v2.18) write these resource keys too.
                      "resources_param(strategy=greedy, max_control_utilization=1.2, "
                      "max_utilization=1.125)\n"
                      "performance_param(fps=null, optimization_level=max)\n"
                      "performance_param(fps=None)\n"
                      "context_switch_param(mode=manual, slotter_chances=600, "
                      "max_compute_utilization=1.0000000000000007)\n"
                      "quantization_param(conv1, force_range_out=[-1.5, 2e3])\n"
                      "post_quantization_optimization(finetune, learning_rate=0.0001, epochs=4, "
                      "loss_types=[l2rel, l2rel], loss_factors=[1, 0.5])\n")));
}

// ---- item 8: keys accepted but not acted on, and kiln compiler ---------------------------------

TEST(AllsBadInput, KeysKilnDoesNotActOnAreReported) {
  const auto d = check(
      "pre_quantization_optimization(activation_clipping, layers={conv*}, mode=percentile, "
      "clipping_values=[0.01, 99.99], recollect_stats=True)\n"
      "pre_quantization_optimization(equalization, policy=enabled, mode=conv_only)\n"
      "post_quantization_optimization(bias_correction, policy=enabled, dataset_size=32)\n");
  std::vector<std::string> m;
  for (const Diagnostic& x : d) m.push_back(formatDiagnostic(x));
  EXPECT_EQ(m, (std::vector<std::string>{
                   "bad.alls:1:1: warning: pre_quantization_optimization(activation_clipping) key "
                   "recollect_stats (line 1) is parsed, not applied (Kiln clips the statistics of "
                   "its one calibration pass and does not collect them again)",
                   "bad.alls:2:1: warning: pre_quantization_optimization(equalization) key mode "
                   "(line 2) is parsed, not applied (Kiln switches cross-layer equalization for "
                   "the whole network)",
                   "bad.alls:3:1: warning: post_quantization_optimization(bias_correction) key "
                   "dataset_size (line 3) is parsed, not applied (Kiln corrects every eligible "
                   "layer on up to 16 calibration samples)"}));
}

TEST(AllsBadInput, ResourceCommandsDeclareTheirKeys) {
  EXPECT_NE(oneError("performance_param(fpz=5)\n")
                .find("unknown key 'fpz' for performance_param; did you mean fps?"),
            std::string::npos);
  EXPECT_NE(
      oneError("context_switch_param(mode=sometimes)\n").find("bad value 'sometimes' for mode"),
      std::string::npos);
  // Other recorded commands and placement commands still take any key.
  EXPECT_FALSE(hasErrors(check("allocator_param(timeout=25m, anything=1)\n")));
}

TEST(AllsBadInput, CompileStageWarnsAboutOptimizationCommands) {
  const auto d = check(
      "quantization_param(conv2, precision_mode=a16_w16)\n"
      "resources_param(max_memory_utilization=0.5)\n"
      "allocator_param(timeout=25m)\n"
      "model_optimization_flavor(optimization_level=2)\n",
      Stage::Compile);
  std::vector<std::string> m;
  for (const Diagnostic& x : d) m.push_back(formatDiagnostic(x));
  EXPECT_EQ(m, (std::vector<std::string>{
                   "bad.alls:1:1: warning: quantization_param (line 1) has no effect in kiln "
                   "compiler: optimization commands act in kiln optimize, and the archive is "
                   "already optimized",
                   "bad.alls:3:1: warning: allocator_param (line 3) is parsed, not applied "
                   "(Kiln's resource plan does not model it)",
                   "bad.alls:4:1: warning: model_optimization_flavor (line 4) has no effect in "
                   "kiln compiler: optimization commands act in kiln optimize, and the archive "
                   "is already optimized"}));
  // Unknown commands and keys are errors at compile time too.
  EXPECT_TRUE(hasErrors(check("frobnicate(x=1)\n", Stage::Compile)));
  EXPECT_TRUE(hasErrors(check("performance_param(fpz=5)\n", Stage::Compile)));
}

}  // namespace
}  // namespace kiln::alls
