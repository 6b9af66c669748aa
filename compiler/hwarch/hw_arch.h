// Hardware-architecture profiles for `kiln compiler --hw-arch`: the figures the resource planner
// needs (clusters, on-chip memory, int8 throughput, clock, interface bandwidths) for each target.
// Vendors publish only some of them; every figure says whether it is published or a Kiln
// estimate (docs/hw-arch.md gives the basis of each).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::hwarch {

/// Where a figure comes from.
enum class Source {
  Published,  // a vendor datasheet or product page (or simple arithmetic on one: link rates)
  Estimated,  // Kiln's estimate; see docs/hw-arch.md for the basis
};
const char* sourceName(Source s);  // "published" / "estimated"

struct HwArch {
  std::string name;         // the --hw-arch word: "hailo8"
  std::string displayName;  // "Hailo-8"

  int clusters = 0;
  Source clustersSource = Source::Estimated;
  int64_t onChipMemoryBytes = 0;  // weights + activation buffers of one context
  Source memorySource = Source::Estimated;
  double topsInt8 = 0;  // peak int8 tera-operations per second (1 MAC = 2 operations)
  Source topsSource = Source::Published;
  double clockMhz = 0;
  Source clockSource = Source::Estimated;
  double hostIoGBps = 0;  // input and output frames (GB/s, 1e9 bytes)
  Source hostIoSource = Source::Estimated;
  double contextLoadGBps = 0;  // weights of a context reloaded on a context switch, and
                               // activations crossing contexts (host RAM or on-module DRAM)
  Source contextLoadSource = Source::Estimated;
  int layerSlotsPerCluster = 0;  // control resources: layers one cluster can run (estimated)

  std::string interfaces;  // e.g. "PCIe Gen3 x4 to the host; no external DRAM"
  std::string note;        // anything the figures above do not say

  /// Layers one context can hold at full control utilization.
  int layerSlots() const { return clusters * layerSlotsPerCluster; }
  /// {name, display_name, figures…, estimated: [names of the estimated figures]}.
  nlohmann::ordered_json toJson() const;
};

/// All profiles, in a fixed order: hailo8, hailo8l, hailo15h, hailo15m, hailo10h.
const std::vector<HwArch>& allArchs();
/// Their names, in the same order.
std::vector<std::string> archNames();
/// The profile named `name` (case-insensitive; "-" and "_" are ignored: "Hailo-8L" works). Throws
/// kiln::Error naming the unknown architecture, the closest match and every known one.
const HwArch& findArch(const std::string& name);

}  // namespace kiln::hwarch
