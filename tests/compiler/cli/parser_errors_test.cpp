// CLI error tests: every bad input gives exit status 1, a one-paragraph message naming the file
// and the problem, and no output file.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/npy.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

const std::string kDigits = std::string(KILN_SOURCE_DIR) + "/examples/digits/digits_cnn.onnx";

struct Result {
  int status;
  std::string err;
};

Result runKiln(const std::string& args) {
  // One file per test: CTest runs tests in parallel.
  const std::string errFile = ::testing::TempDir() + "/stderr_" +
                              ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                              ".txt";
  const std::string cmd = std::string(KILN_BINARY) + " " + args + " >/dev/null 2>" + errFile;
  const int raw = std::system(cmd.c_str());
  std::ifstream f(errFile);
  std::stringstream ss;
  ss << f.rdbuf();
  return {WEXITSTATUS(raw), ss.str()};
}

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::string writeBytes(const std::string& name, const std::string& bytes) {
  const std::string p = ::testing::TempDir() + "/" + name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

void expectParseError(const std::string& model, const std::string& fragment,
                      const std::string& extra = "") {
  const std::string out = ::testing::TempDir() + "/never_" +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".kar";
  std::remove(out.c_str());
  const Result r = runKiln("parser onnx " + model + " --har-path " + out + " " + extra);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("kiln: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n') < 6, true)
      << "not one paragraph: " << r.err;
  EXPECT_FALSE(exists(out));
}

std::string fileBytes(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

TEST(CliErrors, NotAFile) {
  expectParseError("/nonexistent/model.onnx", "/nonexistent/model.onnx: no such file");
}

TEST(CliErrors, Directory) {
  expectParseError(::testing::TempDir(), "is a directory");
}

TEST(CliErrors, NotOnnx) {
  expectParseError(writeBytes("text.onnx", "this is a text file, not a model\n"),
                   "not an ONNX model");
}

TEST(CliErrors, TruncatedProtobuf) {
  const std::string bytes = fileBytes(kDigits);
  expectParseError(writeBytes("truncated.onnx", bytes.substr(0, bytes.size() / 2)),
                   "not an ONNX model");
}

TEST(CliErrors, CheckerRejects) {
  ::onnx::ModelProto m = parseText(
      "<ir_version: 8, opset_import: [\"\" : 13]>\n"
      "g (float[1,4] x) => (float[1,4] y) { y = Relu (x) }");
  m.mutable_graph()->mutable_node(0)->set_input(0, "undefined_tensor");
  expectParseError(writeBytes("bad_checker.onnx", m.SerializeAsString()),
                   "the ONNX checker rejects the model");
}

TEST(CliErrors, MissingExternalData) {
  ::onnx::ModelProto m = parseText(
      "<ir_version: 8, opset_import: [\"\" : 13]>\n"
      "g (float[1,4] x) => (float[1,4] y) { y = Add (x, w) }");
  auto* w = m.mutable_graph()->add_initializer();
  w->set_name("w");
  w->set_data_type(::onnx::TensorProto::FLOAT);
  w->add_dims(4);
  w->set_data_location(::onnx::TensorProto::EXTERNAL);
  auto* loc = w->add_external_data();
  loc->set_key("location");
  loc->set_value("weights.bin");
  expectParseError(writeBytes("external.onnx", m.SerializeAsString()), "weights.bin");
}

TEST(CliErrors, DynamicDimsWithoutTensorShapes) {
  const ::onnx::ModelProto m = parseText(
      "<ir_version: 8, opset_import: [\"\" : 13]>\n"
      "g (float[N,4] x) => (float[N,4] y) { y = Relu (x) }");
  expectParseError(writeBytes("dynamic.onnx", m.SerializeAsString()), "--tensor-shapes");
  expectParseError(writeBytes("dynamic.onnx", m.SerializeAsString()), "expected NAME=[d0,d1,...]",
                   "--tensor-shapes x=1,4");
}

TEST(CliErrors, UnknownOpsetVersion) {
  ::onnx::ModelProto m = parseText(
      "<ir_version: 8, opset_import: [\"\" : 13]>\n"
      "g (float[1,4] x) => (float[1,4] y) { y = Relu (x) }");
  m.mutable_opset_import(0)->set_version(7);
  expectParseError(writeBytes("old.onnx", m.SerializeAsString()),
                   "opset 7; Kiln reads opsets 9 through 18");
}

// Issue 12: a Conv with a stride of 0 killed `kiln parser onnx` with SIGFPE, printing nothing.
TEST(CliErrors, ConvStrideZero) {
  ::onnx::ModelProto m = parseText(
      "<ir_version: 8, opset_import: [\"\" : 13]>\n"
      "g (float[1,1,8,8] x) => (float[1,1,8,8] y) {\n"
      "  w = Constant <value = float[1,1,1,1] {1.0}> ()\n"
      "  y = Conv <strides = [0, 1]> (x, w)\n}");
  m.mutable_graph()->mutable_node(1)->set_name("bad_conv");
  expectParseError(writeBytes("stride0.onnx", m.SerializeAsString()),
                   "stride0.onnx: node 'bad_conv' (Conv, opset 13): attribute 'strides': expected "
                   "integers from 1 to 1048576, found [0, 1]");
}

// A graph without outputs gave "0 Kiln layers" and exit 0.
TEST(CliErrors, GraphWithoutOutputs) {
  ::onnx::ModelProto m = parseText(
      "<ir_version: 8, opset_import: [\"\" : 13]>\n"
      "g (float[1,4] x) => (float[1,4] y) { y = Relu (x) }");
  m.mutable_graph()->clear_output();
  expectParseError(writeBytes("no_outputs.onnx", m.SerializeAsString()),
                   "no_outputs.onnx: the graph has no outputs");
}

// A non-UTF-8 --net-name ended in "internal error: [json.exception.type_error.316]".
TEST(CliErrors, NonUtf8NetName) {
  expectParseError(kDigits, "--net-name 'net\\xFF' is not valid UTF-8: byte 0xFF at offset 3",
                   "--net-name 'net\xff'");
}

TEST(CliErrors, InferChecksInputShapeAndType) {
  const std::string kar = ::testing::TempDir() + "/cli_digits.kar";
  ASSERT_EQ(runKiln("parser onnx " + kDigits + " --har-path " + kar).status, 0);
  const std::string bad = ::testing::TempDir() + "/cli_bad.npy";
  npy::save(bad, npy::fromFloat(std::vector<float>(8 * 8 * 3, 0.f), {1, 3, 8, 8}));
  Result r = runKiln("infer " + kar + " --input-files " + bad + " --output-dir " +
                     ::testing::TempDir() + "/cli_out");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("input 'input' expects shape [1, 1, 8, 8]"), std::string::npos) << r.err;
  npy::Array u8;
  u8.type = npy::ElemType::u8;
  u8.shape = {1, 1, 8, 8};
  u8.data.assign(64, 1);
  npy::save(bad, u8);
  r = runKiln("infer " + kar + " --input-files " + bad + " --output-dir " + ::testing::TempDir() +
              "/cli_out");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("expects float32 [1, 1, 8, 8], the file holds uint8"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace kiln::test
