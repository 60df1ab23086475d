// The real MobileSAM checkpoint ($SAMMPA_MOBILE_SAM), compared with values torch.load gives
// (written by make_fixtures.py into fixtures/mobile_sam/).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "npy.h"
#include "sam/checkpoint/checkpoint.h"

namespace fs = std::filesystem;
using sammpa::sam::Checkpoint;

namespace {

fs::path mobile_sam_file() {
  const char* e = std::getenv("SAMMPA_MOBILE_SAM");
  return e && *e ? fs::path(e) : fs::path();
}

const fs::path kExpected = fs::path(SAMMPA_CKPT_FIXTURES) / "mobile_sam";

}  // namespace

TEST(CheckpointMobileSam, KeysShapesAndValuesMatchTorchLoad) {
  const fs::path file = mobile_sam_file();
  // Required, not skipped: scripts/test.sh provides both (a missing checkpoint is a failed test).
  ASSERT_FALSE(file.empty()) << "SAMMPA_MOBILE_SAM is not set (scripts/test.sh sets it)";
  ASSERT_TRUE(fs::exists(file)) << file << " is missing (scripts/setup_reference.sh fetches it)";
  ASSERT_TRUE(fs::exists(kExpected / "summary.json")) << "the fixture script wrote no MobileSAM expectations";
  const auto summary = nlohmann::json::parse(std::ifstream(kExpected / "summary.json"));
  const Checkpoint ckpt = Checkpoint::open(file);
  ASSERT_EQ(ckpt.size(), summary["shapes"].size());
  for (const auto& [key, shape] : summary["shapes"].items()) {
    ASSERT_TRUE(ckpt.has(key)) << key;
    EXPECT_EQ(ckpt.shape(key), shape.get<sammpa::sam::Shape>()) << key;
  }
  for (const auto& key : summary["values"]) {
    const auto expected = sammpa::test::read_npy(kExpected / (key.get<std::string>() + ".npy"));
    const auto t = ckpt.get(key, expected.shape);
    for (int64_t i = 0; i < t.numel(); ++i) ASSERT_EQ(t.data()[i], expected.data[i]) << key << " at " << i;
  }
}
