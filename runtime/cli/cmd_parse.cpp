// kilnrt parse FILE.kef [--json]: what an executable holds, without running it.
#include <cstdio>

#include "runtime/cli/args.h"
#include "runtime/cli/cli_util.h"
#include "runtime/cli/commands.h"

namespace kiln::rt::cli {

namespace {

struct LayerRow {
  size_t consts = 0;
  int64_t constBytes = 0;
};

LayerRow constsOf(const Program& p, const OpDesc& op) {
  LayerRow r;
  for (uint32_t c : op.consts) {
    if (c == kNoConst || c >= p.consts.size()) continue;
    ++r.consts;
    r.constBytes += p.consts[c].count * int64_t(constTypeSize(p.consts[c].type));
  }
  return r;
}

Json streamJson(const StreamDesc& s) {
  return Json::object()
      .set("name", s.name)
      .set("shape", s.shape)
      .set("layout", s.layout)
      .set("type", s.bits == 16 ? "uint16" : "uint8")
      .set("bits", s.bits)
      .set("qp_scale", s.scale)
      .set("qp_zp", static_cast<long long>(s.zeroPoint))
      .set("limvals_min", double(s.limMin))
      .set("limvals_max", double(s.limMax));
}

Json toJson(const Model& m) {
  const Program& p = m.program();
  Json ins = Json::array(), outs = Json::array(), ctxs = Json::array(), layers = Json::array();
  for (const StreamDesc& s : p.inputs) ins.push(streamJson(s));
  for (const StreamDesc& s : p.outputs) outs.push(streamJson(s));
  for (size_t i = 0; i < p.contexts.size(); ++i) {
    const ContextDesc& c = p.contexts[i];
    ctxs.push(Json::object()
                  .set("index", i)
                  .set("first_operation", c.firstOp)
                  .set("operations", c.opCount)
                  .set("weight_bytes", static_cast<long long>(c.weightBytes))
                  .set("macs", static_cast<long long>(c.macs)));
  }
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const OpDesc& op = p.ops[i];
    const TensorDesc& t = p.tensors[op.output];
    const LayerRow r = constsOf(p, op);
    layers.push(Json::object()
                    .set("index", i)
                    .set("name", op.name)
                    .set("opcode", opName(op.code))
                    .set("output_shape", t.shape)
                    .set("bits", t.bits)
                    .set("constants", r.consts)
                    .set("constant_bytes", static_cast<long long>(r.constBytes))
                    .set("work", static_cast<long long>(m.opWork(i))));
  }
  return Json::object()
      .set("file", m.path())
      .set("file_bytes", m.fileBytes())
      .set("format_version", m.formatVersion())
      .set("net_name", p.meta.netName)
      .set("hw_arch", p.meta.hwArch)
      .set("tool_version", p.meta.toolVersion)
      .set("graph_hash", p.meta.graphHash)
      .set("work", static_cast<long long>(m.work()))
      .set("inputs", ins)
      .set("outputs", outs)
      .set("contexts", ctxs)
      .set("layers", layers)
      .set("memory", Json::object()
                         .set("arena_bytes", static_cast<long long>(p.arenaBytes()))
                         .set("constants", p.consts.size())
                         .set("constant_bytes", static_cast<long long>(constantBytes(p))))
      .set("plan", m.planText())
      .set("nms_postprocess", m.nms() ? Json(describeNms(*m.nms())) : Json());
}

void printStreams(const char* title, const std::vector<StreamDesc>& v) {
  std::printf("\n%s (%zu)\n", title, v.size());
  std::printf("  %-24s %-18s %-6s %-6s %13s %6s  %s\n", "name", "shape", "layout", "type",
              "qp_scale", "qp_zp", "limvals [min, max]");
  for (const StreamDesc& s : v)
    std::printf("  %-24s %-18s %-6s %-6s %13.6g %6lld  [%.6g, %.6g]\n", s.name.c_str(),
                shapeStr(s.shape).c_str(), s.layout.empty() ? "-" : s.layout.c_str(),
                s.bits == 16 ? "uint16" : "uint8", s.scale, static_cast<long long>(s.zeroPoint),
                double(s.limMin), double(s.limMax));
}

void printText(const Model& m) {
  const Program& p = m.program();
  std::printf("File          %s (%zu bytes)\n", m.path().c_str(), m.fileBytes());
  std::printf("Format        .kef version %u\n", m.formatVersion());
  std::printf("Network       %s\n", p.meta.netName.c_str());
  std::printf("Hw arch       %s\n", p.meta.hwArch.c_str());
  std::printf("Tool version  %s\n", p.meta.toolVersion.c_str());
  std::printf("Graph hash    %s\n", p.meta.graphHash.c_str());
  std::printf(
      "Work          %s MAC-equivalents per frame (estimated: multiply-accumulates and "
      "element visits; limit %s)\n",
      formatCount(m.work()).c_str(), formatCount(m.options().maxWork).c_str());
  printStreams("Input streams", p.inputs);
  printStreams("Output streams", p.outputs);
  if (m.nms())
    std::printf("\nPost-process  nms_postprocess on the host: %s; kilnrt infer writes %s.npy\n",
                describeNms(*m.nms()).c_str(), kNmsOutputName);
  std::printf("\nContexts (%zu)\n", p.contexts.size());
  std::printf("  %4s  %-20s %14s %16s\n", "ctx", "operations", "weight bytes", "MACs");
  for (size_t i = 0; i < p.contexts.size(); ++i) {
    const ContextDesc& c = p.contexts[i];
    const std::string ops = c.opCount == 0 ? "none"
                                           : std::to_string(c.firstOp) + ".." +
                                                 std::to_string(c.firstOp + c.opCount - 1) + " (" +
                                                 std::to_string(c.opCount) + ")";
    std::printf("  %4zu  %-20s %14lld %16lld\n", i, ops.c_str(),
                static_cast<long long>(c.weightBytes), static_cast<long long>(c.macs));
  }
  std::printf("\nLayers (%zu operations)\n", p.ops.size());
  std::printf("  %4s  %-28s %-16s %-20s %4s %7s %12s %9s\n", "idx", "name", "opcode",
              "output shape", "bits", "consts", "const bytes", "work");
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const OpDesc& op = p.ops[i];
    const TensorDesc& t = p.tensors[op.output];
    const LayerRow r = constsOf(p, op);
    std::printf("  %4zu  %-28s %-16s %-20s %4d %7zu %12lld %9s\n", i, op.name.c_str(),
                opName(op.code).c_str(), shapeStr(t.shape).c_str(), t.bits, r.consts,
                static_cast<long long>(r.constBytes), formatCount(m.opWork(i)).c_str());
  }
  const int64_t arena = p.arenaBytes(), consts = constantBytes(p);
  std::printf("\nMemory\n");
  std::printf("  activation arena  %12lld bytes (%s; %zu tensors)\n", static_cast<long long>(arena),
              formatBytes(arena).c_str(), p.tensors.size());
  std::printf("  constants         %12lld bytes (%s; %zu constants)\n",
              static_cast<long long>(consts), formatBytes(consts).c_str(), p.consts.size());
  std::printf("\nPlan (from kiln compiler)\n");
  if (m.planText().empty()) {
    std::printf("  (none stored)\n");
  } else {
    std::fputs(m.planText().c_str(), stdout);
    if (m.planText().back() != '\n') std::printf("\n");
  }
}

}  // namespace

int cmdParse(const Args& args) {
  ArgParser ap("parse", "FILE.kef [--json]",
               "Describes a Kiln executable without running it: format version, network name, "
               "target, tool version and graph hash; the input and output streams with their "
               "shape, layout, device type (uint8/uint16) and host quantization (qp_scale, "
               "qp_zp, limvals); the contexts; every operation with its output, constants and "
               "estimated work; the memory it needs; and the resource plan kiln compiler stored. "
               "The file is "
               "fully validated (checksums, tables, every operation) as kilnrt run would.");
  ap.positional("FILE.kef", "The executable (from kiln compiler).");
  ap.flag("--json", "Print the same as one JSON object (for scripts).");
  ap.epilog("example:\n  kilnrt parse digits_cnn.kef\n  kilnrt parse digits_cnn.kef --json\n");
  if (!ap.parse(args)) return 0;
  const auto model = Model::open(ap.positionals("FILE.kef")[0]);
  if (ap.has("--json")) {
    std::printf("%s\n", toJson(*model).dump(2).c_str());
  } else {
    printText(*model);
  }
  return 0;
}

}  // namespace kiln::rt::cli
