// Model-script parser: the ten real scripts, the AST of specific statements, syntax errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "alls/alls.h"

namespace kiln::alls {
namespace {

const std::string kSamples = std::string(KILN_SOURCE_DIR) + "/tests/data/alls-samples";

std::string samplePath(const std::string& name) {
  return kSamples + "/" + name;
}

// The message of the ScriptError `f` throws ("" when it does not throw).
template <typename F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const ScriptError& e) {
    return e.what();
  }
  return "";
}

std::string parseError(const std::string& text) {
  return errorOf([&] { parseScript(text, "test.alls"); });
}

TEST(AllsParser, EveryRealScriptParsesAndValidates) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSamples)) {
    if (entry.path().extension() != ".alls") continue;
    ++files;
    SCOPED_TRACE(entry.path().string());
    Script s;
    ASSERT_NO_THROW(s = parseScriptFile(entry.path().string()));
    EXPECT_FALSE(s.statements.empty());
    for (const Diagnostic& d : validateScript(s))
      EXPECT_EQ(d.severity, Diagnostic::Warning) << formatDiagnostic(d);
  }
  EXPECT_EQ(files, 10);
}

TEST(AllsParser, StatementCountsOfRealScripts) {
  EXPECT_EQ(parseScriptFile(samplePath("resnet_v1_50.alls")).statements.size(), 6u);
  EXPECT_EQ(parseScriptFile(samplePath("mobilenet_v2_1.0.alls")).statements.size(), 3u);
  EXPECT_EQ(parseScriptFile(samplePath("arcface_mobilefacenet_nv12.alls")).statements.size(), 4u);
  EXPECT_EQ(parseScriptFile(samplePath("clip_vit_b_16_image_encoder.alls")).statements.size(), 9u);
  // 358 lines, 6 of them blank.
  EXPECT_EQ(
      parseScriptFile(samplePath("hailo8_base_deeplab_v3_mobilenet_v2.alls")).statements.size(),
      352u);
}

TEST(AllsParser, NormalizationWithTargetAndLists) {
  const Script s = parseScriptFile(samplePath("scrfd_10g.alls"));
  const Statement& st = s.statements[0];
  EXPECT_EQ(st.targets, std::vector<std::string>{"normalization1"});
  EXPECT_EQ(st.command, "normalization");
  EXPECT_EQ(st.object, "");
  EXPECT_EQ(st.pos.line, 1);
  EXPECT_EQ(st.pos.col, 1);
  EXPECT_EQ(st.pos.file, samplePath("scrfd_10g.alls"));
  ASSERT_EQ(st.args.size(), 2u);
  const Value& mean = st.args[0].value;
  EXPECT_EQ(mean.kind, Value::Kind::List);
  ASSERT_EQ(mean.items.size(), 3u);
  EXPECT_EQ(mean.items[0].kind, Value::Kind::Number);
  EXPECT_DOUBLE_EQ(mean.items[0].number, 127.5);
  EXPECT_EQ(mean.text, "[127.5, 127.5, 127.5]");
  EXPECT_DOUBLE_EQ(st.args[1].value.items[2].number, 128.0);
  EXPECT_EQ(st.args[1].value.items[2].text, "128.0");
  EXPECT_EQ(st.sourceLine,
            "normalization1 = normalization([127.5, 127.5, 127.5], [128.0, 128.0, 128.0])");
}

TEST(AllsParser, ScopedNamesAndKeywordLists) {
  const Script s = parseScriptFile(samplePath("centerpose_regnetx_800mf.alls"));
  const Statement& act = s.statements[1];
  EXPECT_EQ(act.command, "change_output_activation");
  ASSERT_EQ(act.args.size(), 2u);
  EXPECT_EQ(act.args[0].key, "");
  EXPECT_EQ(act.args[0].value.kind, Value::Kind::Word);
  EXPECT_EQ(act.args[0].value.text, "centerpose_regnetx_800mf/conv64");
  EXPECT_EQ(act.args[0].value.pos.line, 2);
  EXPECT_EQ(act.args[0].value.pos.col, 26);
  EXPECT_EQ(act.args[1].value.text, "sigmoid");

  const Statement& ft = s.statements[5];
  EXPECT_EQ(ft.command, "post_quantization_optimization");
  ASSERT_NE(ft.find("loss_layer_names"), nullptr);
  EXPECT_EQ(ft.find("loss_layer_names")->value.items.size(), 10u);
  EXPECT_EQ(ft.find("loss_layer_names")->value.items[0].text, "deconv1");
  EXPECT_EQ(ft.find("train_scales")->value.kind, Value::Kind::Word);
  EXPECT_EQ(ft.find("train_scales")->value.text, "True");
  EXPECT_EQ(ft.find("learning_rate")->value.kind, Value::Kind::Number);
  EXPECT_DOUBLE_EQ(ft.find("learning_rate")->value.number, 0.0001);
  EXPECT_EQ(ft.positional(0)->text, "finetune");
  EXPECT_EQ(ft.positionalCount(), 1u);
}

TEST(AllsParser, GlobsListsAndCrlf) {
  const Script s = parseScriptFile(samplePath("clip_vit_b_16_image_encoder.alls"));
  ASSERT_EQ(s.statements.size(), 9u);
  EXPECT_EQ(s.statements[0].targets, std::vector<std::string>{"norm1"});
  EXPECT_DOUBLE_EQ(s.statements[0].args[1].value.items[2].number, 70.32316304999999);
  const Value& glob = s.statements[2].args[0].value;
  EXPECT_EQ(glob.kind, Value::Kind::Glob);
  EXPECT_EQ(glob.text, "ew_add*");
  EXPECT_EQ(glob.pos.col, 20);
  const Value& list = s.statements[5].args[0].value;
  EXPECT_EQ(list.kind, Value::Kind::List);
  ASSERT_EQ(list.items.size(), 2u);
  EXPECT_EQ(list.items[1].text, "conv1");
  // No CR anywhere: not in words, not in the source line.
  EXPECT_EQ(s.statements[8].command, "resources_param");
  EXPECT_EQ(s.statements[8].pos.line, 10);
  EXPECT_EQ(s.statements[8].sourceLine, "resources_param(max_memory_utilization=0.5)");
  EXPECT_EQ(s.statements[7].args[1].value.text, "64");
}

TEST(AllsParser, NoFinalNewlineAndStrings) {
  const Script s = parseScriptFile(samplePath("arcface_mobilefacenet_nv12.alls"));
  const Statement& last = s.statements.back();
  EXPECT_EQ(last.command, "quantization_param");
  EXPECT_EQ(last.find("precision_mode")->value.text, "a8_w8");
  const Statement& conv = s.statements[2];
  EXPECT_EQ(conv.targets, std::vector<std::string>{"nv_format_conversion"});
  EXPECT_EQ(conv.find("emulator_support")->value.text, "True");

  const Script y = parseScriptFile(samplePath("yolov5m.alls"));
  const Statement& nms = y.statements[2];
  EXPECT_EQ(nms.args[0].value.kind, Value::Kind::String);
  EXPECT_EQ(nms.args[0].value.text, "../../postprocess_config/yolov5m_spp_nms_config.json");
  EXPECT_EQ(nms.args[1].value.text, "yolov5");
  EXPECT_EQ(nms.args[2].key, "engine");
}

TEST(AllsParser, NegativeNumbersAndPositionalLogits) {
  const Script s = parseScriptFile(samplePath("efficientnet_lite0.alls"));
  const Statement& logits = s.statements.back();
  EXPECT_EQ(logits.targets, std::vector<std::string>{"logits_layer1"});
  ASSERT_EQ(logits.args.size(), 4u);
  EXPECT_EQ(logits.args[2].value.kind, Value::Kind::Number);
  EXPECT_DOUBLE_EQ(logits.args[2].value.number, -1);
  EXPECT_EQ(logits.args[3].value.text, "cpu");

  const Script t = parseScript("x(a=-32.52, b=1e-5, c=25m, d=2.5E+3, e=-7)\n", "t.alls");
  const auto& a = t.statements[0];
  EXPECT_DOUBLE_EQ(a.find("a")->value.number, -32.52);
  EXPECT_DOUBLE_EQ(a.find("b")->value.number, 1e-5);
  EXPECT_EQ(a.find("c")->value.kind, Value::Kind::Word);
  EXPECT_EQ(a.find("c")->value.text, "25m");
  EXPECT_DOUBLE_EQ(a.find("d")->value.number, 2500);
  EXPECT_DOUBLE_EQ(a.find("e")->value.number, -7);
}

TEST(AllsParser, CompilerWrittenScript) {
  const Script s = parseScriptFile(samplePath("hailo8_base_deeplab_v3_mobilenet_v2.alls"));
  // Multiple scoped targets with '-' in names.
  bool sawSplitter = false;
  for (const Statement& st : s.statements) {
    if (st.command != "shape_splitter" || sawSplitter) continue;
    sawSplitter = true;
    EXPECT_EQ(st.targets.size(), 1u);
    EXPECT_EQ(st.args[0].value.text, "SPLIT_FEATURES");
    EXPECT_EQ(st.args[2].value.kind, Value::Kind::List);
  }
  EXPECT_TRUE(sawSplitter);
  const Statement* defuse = nullptr;
  for (const Statement& st : s.statements)
    if (!defuse && st.command == "defuse" && st.targets.size() == 5) defuse = &st;
  ASSERT_NE(defuse, nullptr);
  EXPECT_EQ(defuse->targets[0], "deeplab_v3_mobilenet_v2/dw2_fs");
  EXPECT_EQ(defuse->targets[4], "deeplab_v3_mobilenet_v2/dw2_dc");
  EXPECT_EQ(defuse->find("defuse_type")->value.text, "INPUT_FEATURES");
  const Statement& alloc = s.statements[5];
  EXPECT_EQ(alloc.command, "allocator_param");
  EXPECT_EQ(alloc.args.size(), 32u);
  EXPECT_EQ(alloc.args[0].key, "auto_split_const_inputs");
  EXPECT_EQ(alloc.args[0].value.text, "False");
}

TEST(AllsParser, MultiLineStatementsCommentsObjectsAndEmptyTargets) {
  const std::string text =
      "# a comment\r\n"
      "\r\n"
      "  quantization_param([conv1,\r\n"
      "                      conv2],   # trailing comment\r\n"
      "     precision_mode = a16_w16,)\r\n"
      "obj.compilation_param(conv3, resources_allocation_strategy=manual_scs_selection)\n"
      "{} = defuse(conv4, 2)\n"
      "a, b,c = defuse(conv5, 2)";
  const Script s = parseScript(text, "m.alls");
  ASSERT_EQ(s.statements.size(), 4u);
  const Statement& q = s.statements[0];
  EXPECT_EQ(q.pos.line, 3);
  EXPECT_EQ(q.pos.col, 3);
  EXPECT_EQ(q.args[0].value.items.size(), 2u);
  EXPECT_EQ(q.args[0].value.items[1].pos.line, 4);
  EXPECT_EQ(q.args[1].key, "precision_mode");
  EXPECT_EQ(q.args[1].pos.line, 5);
  EXPECT_EQ(q.lineText(5), "     precision_mode = a16_w16,)");
  EXPECT_EQ(q.sourceLine.find('\r'), std::string::npos);
  EXPECT_EQ(s.statements[1].object, "obj");
  EXPECT_EQ(s.statements[1].command, "compilation_param");
  EXPECT_EQ(s.statements[2].targets, std::vector<std::string>{"{}"});
  EXPECT_EQ(s.statements[3].targets, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(parseScript("", "e.alls").statements.empty());
  EXPECT_TRUE(parseScript("\n# only a comment", "e.alls").statements.empty());
  EXPECT_TRUE(parseScript("transpose()", "e.alls").statements[0].args.empty());
}

// `{net/matmul1: [...], net/matmul2: [...]} = defuse_block(...)` (a zoo script): the keys are the
// targets, the values kept as written.
TEST(AllsParser, DictionaryTargets) {
  const Script s = parseScript(
      "{net/matmul1: [a, b], net/matmul2: [c]} = defuse_block(matmul1, defuse_count=4)\n"
      "{ x : [1, [2, 3]] } = defuse_block(matmul2)\n",
      "d.alls");
  ASSERT_EQ(s.statements.size(), 2u);
  EXPECT_EQ(s.statements[0].targets, (std::vector<std::string>{"net/matmul1", "net/matmul2"}));
  EXPECT_EQ(s.statements[0].targetValues, (std::vector<std::string>{"[a, b]", "[c]"}));
  EXPECT_EQ(s.statements[0].command, "defuse_block");
  EXPECT_EQ(s.statements[1].targets, std::vector<std::string>{"x"});
  EXPECT_EQ(s.statements[1].targetValues, std::vector<std::string>{"[1, [2, 3]]"});
  EXPECT_TRUE(s.notes.empty());
  EXPECT_EQ(parseError("{conv*} = defuse_block(a)\n"),
            "test.alls:1:7: error: expected ':' after 'conv*' in the dictionary target {name: "
            "[...], ...}\n"
            "{conv*} = defuse_block(a)\n"
            "      ^");
  EXPECT_NE(parseError("{a: [1, 2], b:} = defuse_block(a)\n")
                .find("1:15: error: expected a value after 'b:'"),
            std::string::npos);
}

// One `)` too many at the end of a statement is accepted with a note (the validator makes it a
// warning); two are still an error.
TEST(AllsParser, OneParenTooManyIsANote) {
  const Script s = parseScript("set_seed(seed=1))\nset_seed(seed=2)\n", "p.alls");
  ASSERT_EQ(s.statements.size(), 2u);
  ASSERT_EQ(s.notes.size(), 1u);
  EXPECT_EQ(s.notes[0].pos.line, 1);
  EXPECT_EQ(s.notes[0].pos.col, 17);
  EXPECT_EQ(s.notes[0].sourceLine, "set_seed(seed=1))");
  EXPECT_NE(parseError("set_seed(seed=2)))\n")
                .find("1:17: error: expected the end of the line after ')', found ')'"),
            std::string::npos);
}

// ---- syntax errors ----

TEST(AllsParserErrors, SyntaxErrorHasLineColumnAndCaret) {
  const std::string msg = parseError(
      "normalization1 = normalization([1, 2, 3], [4, 5, 6])\n"
      "quantization_param(conv1 precision_mode=a8_w8)\n");
  EXPECT_EQ(msg,
            "test.alls:2:26: error: expected ',' or ')' after an argument, found 'precision_mode'\n"
            "quantization_param(conv1 precision_mode=a8_w8)\n"
            "                         ^");
}

TEST(AllsParserErrors, UnclosedParenAtEndOfFile) {
  const std::string msg = parseError("model_optimization_config(calibration, calibset_size=64\n");
  EXPECT_EQ(msg,
            "test.alls:1:56: error: expected ')' to close the '(' opened at line 1, column 26, "
            "found end of file\n"
            "model_optimization_config(calibration, calibset_size=64\n"
            "                                                       ^");
}

TEST(AllsParserErrors, UnclosedParenSwallowingTheNextLine) {
  const std::string msg = parseError(
      "quantization_param(conv1, precision_mode=a8_w8\n"
      "post_quantization_optimization(finetune, policy=disabled)\n");
  EXPECT_NE(
      msg.find("test.alls:2:1: error: expected ',' or ')' after an argument, found "
               "'post_quantization_optimization' (the '(' at line 1, column 19 is still open)"),
      std::string::npos)
      << msg;
}

TEST(AllsParserErrors, UnclosedListAndMissingValue) {
  EXPECT_NE(parseError("normalization([1, 2, 3)")
                .find("1:23: error: expected ',' or ']' in the list, found ')'"),
            std::string::npos);
  EXPECT_NE(parseError("quantization_param(conv1, precision_mode=)")
                .find("1:42: error: expected a value (a number, \"string\", name, [list] or "
                      "{glob}), found ')'"),
            std::string::npos);
}

TEST(AllsParserErrors, StatementShapeErrors) {
  EXPECT_NE(parseError("quantization_param\n")
                .find("1:19: error: expected '(' after the command name "
                      "'quantization_param', found end of line"),
            std::string::npos);
  EXPECT_NE(parseError("x = 5\n").find(
                "1:5: error: expected a command such as quantization_param(...) after '=', "
                "found number 5"),
            std::string::npos);
  EXPECT_NE(parseError("set_seed(seed=1) extra\n")
                .find("1:18: error: expected the end of the line after ')', "
                      "found 'extra'"),
            std::string::npos);
  EXPECT_NE(parseError("a b = c()\n")
                .find("1:3: error: expected '(' after the command name 'a', found 'b'"),
            std::string::npos);
}

TEST(AllsParserErrors, LexicalErrors) {
  EXPECT_EQ(parseError("nms_postprocess(\"cfg.json, engine=cpu)\n"),
            "test.alls:1:17: error: unterminated string: expected a closing \" before the end of "
            "the line\n"
            "nms_postprocess(\"cfg.json, engine=cpu)\n"
            "                ^");
  EXPECT_NE(parseError("quantization_param({conv*, precision_mode=a8_w8)\n")
                .find("1:20: error: unterminated glob: expected '}' to close the '{' before the "
                      "end of the line"),
            std::string::npos);
  EXPECT_NE(parseError("quantization_param(conv1; precision_mode=a8_w8)\n")
                .find("1:25: error: unexpected character ';'"),
            std::string::npos);
}

TEST(AllsParserErrors, MissingFileIsNamed) {
  const std::string msg = errorOf([] { parseScriptFile("/nonexistent/dir/model.alls"); });
  EXPECT_NE(msg.find("/nonexistent/dir/model.alls"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot read the model script"), std::string::npos) << msg;
  EXPECT_NE(msg.find("No such file"), std::string::npos) << msg;
  const std::string dir = errorOf([] { parseScriptFile(kSamples); });
  EXPECT_NE(dir.find("alls-samples': it is a directory"), std::string::npos) << dir;
}

}  // namespace
}  // namespace kiln::alls

namespace kiln::alls {
namespace {

// Every truncation and a sprinkling of byte flips of a real script either parses or gives a
// ScriptError (never another exception or a crash), and errors always carry a position.
TEST(AllsParserErrors, DamagedScriptsGiveScriptErrorsOnly) {
  std::ifstream in(kSamples + "/centerpose_regnetx_800mf.alls", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const std::string noise = "()[]{},=\"#\n\r -.x1/";
  int errors = 0;
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    for (int variant = 0; variant < 3; ++variant) {
      std::string t = text.substr(0, cut);
      if (variant > 0 && cut < text.size())
        t += noise[(cut * 7 + variant) % noise.size()] + text.substr(cut + 1);
      try {
        const Script s = parseScript(t, "d.alls");
        validateScript(s);
      } catch (const ScriptError& e) {
        ++errors;
        EXPECT_GT(e.pos().line, 0);
        EXPECT_GT(e.pos().col, 0);
        EXPECT_EQ(std::string(e.what()).rfind("d.alls:", 0), 0u);
      }
    }
  }
  EXPECT_GT(errors, 100);
}

}  // namespace
}  // namespace kiln::alls
