#include "compiler/hwarch/hw_arch.h"

#include <cctype>

#include "common/strings.h"
#include "compiler/ir/types.h"

namespace kiln::hwarch {

namespace {

constexpr int64_t kMB = 1000 * 1000;
// PCIe Gen3: 8 GT/s per lane, 128b/130b coding: 0.985 GB/s per lane.
constexpr double kPcieGen3x4GBps = 4 * 8.0 * 128.0 / 130.0 / 8.0;
// Kiln's estimate of the usable bandwidth of a 32-bit LPDDR4/4X interface (half its peak).
constexpr double kLpddr4GBps = 8.5;
// Estimated control resources per cluster (layers one cluster can run in one context).
constexpr int kLayerSlotsPerCluster = 64;

using S = Source;

std::vector<HwArch> makeArchs() {
  std::vector<HwArch> v;
  auto add = [&](std::string name, std::string display, int clusters, int64_t memBytes, double tops,
                 S topsSrc, double clockMhz, double hostGBps, S hostSrc, double loadGBps, S loadSrc,
                 std::string interfaces, std::string note) {
    HwArch a;
    a.name = std::move(name);
    a.displayName = std::move(display);
    a.clusters = clusters;
    a.clustersSource = S::Estimated;
    a.onChipMemoryBytes = memBytes;
    a.memorySource = S::Estimated;
    a.topsInt8 = tops;
    a.topsSource = topsSrc;
    a.clockMhz = clockMhz;
    a.clockSource = S::Estimated;
    a.hostIoGBps = hostGBps;
    a.hostIoSource = hostSrc;
    a.contextLoadGBps = loadGBps;
    a.contextLoadSource = loadSrc;
    a.layerSlotsPerCluster = kLayerSlotsPerCluster;
    a.interfaces = std::move(interfaces);
    a.note = std::move(note);
    v.push_back(std::move(a));
  };
  add("hailo8", "Hailo-8", 8, 20 * kMB, 26, S::Published, 400, kPcieGen3x4GBps, S::Published,
      kPcieGen3x4GBps, S::Published,
      "PCIe Gen3 x4 to the host; no external DRAM (context weights come from host RAM)",
      "on-chip memory: the field's figure of about 20 MB");
  add("hailo8l", "Hailo-8L", 4, 10 * kMB, 13, S::Published, 400, kPcieGen3x4GBps, S::Published,
      kPcieGen3x4GBps, S::Published,
      "PCIe Gen3 x4 to the host; no external DRAM (context weights come from host RAM)",
      "half of Hailo-8's clusters and memory (estimated from the halved TOPS); executables for "
      "hailo8l also run on hailo8");
  add("hailo15h", "Hailo-15H", 5, 12500 * 1000, 20, S::Published, 500, kLpddr4GBps, S::Estimated,
      kLpddr4GBps, S::Estimated,
      "vision-processor SoC: the NPU reads frames and context weights from the SoC's "
      "LPDDR4/4X",
      "");
  add("hailo15m", "Hailo-15M", 3, 7500 * 1000, 11, S::Published, 450, kLpddr4GBps, S::Estimated,
      kLpddr4GBps, S::Estimated,
      "vision-processor SoC: the NPU reads frames and context weights from the SoC's "
      "LPDDR4/4X",
      "");
  add("hailo10h", "Hailo-10H", 5, 12500 * 1000, 20, S::Published, 500, kPcieGen3x4GBps,
      S::Estimated, kLpddr4GBps, S::Estimated,
      "PCIe Gen3 x4 to the host; on-module LPDDR4/4X (4 or 8 GB) holds context weights",
      "published as 40 TOPS at INT4, i.e. 20 TOPS at INT8");
  return v;
}

std::string normalized(const std::string& s) {
  std::string out;
  for (char c : s)
    if (c != '-' && c != '_' && c != ' ') out += char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const char* sourceName(Source s) {
  return s == Source::Published ? "published" : "estimated";
}

nlohmann::ordered_json HwArch::toJson() const {
  nlohmann::ordered_json j;
  j["name"] = name;
  j["display_name"] = displayName;
  j["clusters"] = clusters;
  j["on_chip_memory_bytes"] = onChipMemoryBytes;
  j["tops_int8"] = topsInt8;
  j["clock_mhz"] = clockMhz;
  j["host_io_gbps"] = hostIoGBps;
  j["context_load_gbps"] = contextLoadGBps;
  j["layer_slots_per_cluster"] = layerSlotsPerCluster;
  j["interfaces"] = interfaces;
  nlohmann::ordered_json est = nlohmann::ordered_json::array();
  const std::pair<const char*, Source> figures[] = {{"clusters", clustersSource},
                                                    {"on_chip_memory_bytes", memorySource},
                                                    {"tops_int8", topsSource},
                                                    {"clock_mhz", clockSource},
                                                    {"host_io_gbps", hostIoSource},
                                                    {"context_load_gbps", contextLoadSource},
                                                    {"layer_slots_per_cluster", Source::Estimated}};
  for (const auto& [field, src] : figures)
    if (src == Source::Estimated) est.push_back(field);
  j["estimated"] = est;
  if (!note.empty()) j["note"] = note;
  return j;
}

const std::vector<HwArch>& allArchs() {
  static const std::vector<HwArch> archs = makeArchs();
  return archs;
}

std::vector<std::string> archNames() {
  std::vector<std::string> names;
  for (const HwArch& a : allArchs()) names.push_back(a.name);
  return names;
}

const HwArch& findArch(const std::string& name) {
  const std::string key = normalized(name);
  for (const HwArch& a : allArchs())
    if (a.name == key) return a;
  std::string msg = "unknown hardware architecture '" + name + "'";
  const std::vector<std::string> close = closestNames(archNames(), key, 1, true);
  if (!close.empty()) msg += " (did you mean " + close[0] + "?)";
  msg += "; known architectures: " + join(archNames(), ", ");
  throw Error(msg);
}

}  // namespace kiln::hwarch
