// libFuzzer target for model scripts (.alls): the input is a script's text, parsed, validated
// against the command table and formatted as `kiln optimize` does (optimizer.cpp loadScript),
// then every layer reference in it is resolved against the digits CNN's layer names as the
// script is applied (script_apply.cpp). alls::ScriptError is the expected outcome of bad input;
// anything else is a finding.
//
// Seeds (tools/fuzz/run_fuzz.sh): tests/data/alls-samples/ and ../shared/alls-corpus/.
#include <cstdint>
#include <string>
#include <vector>

#include "alls/alls.h"

namespace {

using namespace kiln::alls;

const std::vector<LayerName>& digitsLayers() {
  static const std::vector<LayerName> layers = {
      {"input_layer1", {"input"}}, {"conv1", {"Conv_0", "Relu_1"}},
      {"conv2", {"Conv_2"}},       {"maxpool1", {"MaxPool_3"}},
      {"conv3", {"Conv_4"}},       {"fc1", {"Gemm_6"}},
      {"digits/fc2", {"Gemm_7"}},  {"output_layer1", {}}};
  return layers;
}

void resolveAll(const Statement& st) {
  std::vector<const Value*> refs;
  for (const Arg& a : st.args) refs.push_back(&a.value);
  for (const Value* v : refs) {
    try {
      resolveLayers(*v, digitsLayers(), "digits", &st);
    } catch (const ScriptError& e) {
      (void)e.what();
    }
  }
  for (const std::string& t : st.targets) {
    Value v;
    v.kind = Value::Kind::Word;
    v.text = t;
    v.pos = st.pos;
    try {
      resolveLayers(v, digitsLayers(), "digits", &st);
    } catch (const ScriptError&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const Script script = parseScript(text, "fuzz.alls");
    std::string messages;
    for (const Diagnostic& d : validateScript(script)) messages += formatDiagnostic(d);
    for (const Statement& st : script.statements) {
      (void)isApplied(st);
      resolveAll(st);
    }
  } catch (const ScriptError& e) {
    (void)e.what();
  }
  return 0;
}
