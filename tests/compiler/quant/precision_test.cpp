// precision_mode values: every value of the script language's one list
// (alls::precisionModes()) parses to its bits; anything else is rejected.
#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "alls/commands.h"
#include "compiler/quant/precision.h"

namespace kiln::quant {
namespace {

TEST(PrecisionModes, EveryAcceptedModeParsesToItsBits) {
  const std::map<std::string, std::tuple<int, int, int>> bits = {
      {"a8_w8", {8, 8, 8}},    {"a8_w4", {8, 4, 8}},        {"a16_w16", {16, 16, 16}},
      {"a16_w8", {16, 8, 16}}, {"a16_w8_a16", {16, 8, 16}}, {"a8_w8_a16", {8, 8, 16}}};
  ASSERT_EQ(alls::precisionModes().size(), bits.size());
  for (const std::string& name : alls::precisionModes()) {
    PrecisionMode m;
    ASSERT_TRUE(parsePrecisionMode(name, m)) << name;
    ASSERT_EQ(bits.count(name), 1u) << name;
    EXPECT_EQ(std::make_tuple(m.in, m.w, m.out), bits.at(name)) << name;
    EXPECT_EQ(m.name, name);
  }
}

TEST(PrecisionModes, OthersAreRejected) {
  for (const char* bad : {"", "a9_w9", "a8_w8_", "a8", "w8", "a4_w4", "A8_W8", "a8_w8 "}) {
    PrecisionMode m;
    m.name = "unchanged";
    EXPECT_FALSE(parsePrecisionMode(bad, m)) << bad;
    EXPECT_EQ(m.name, "unchanged");
  }
}

}  // namespace
}  // namespace kiln::quant
