// `sammpa run`, the main job, end to end on small synthetic sets.
#include <nlohmann/json.hpp>

#include "io/dataset.h"
#include "io/phantom.h"
#include "test_support.h"

using namespace sammpa;
namespace fs = std::filesystem;

TEST(RunCli, SelectsPropagatesScoresAndDrawsOverlays) {
  test::TempDir dir;
  write_phantom_dataset(dir / "data", {14, 96, 3});
  auto r = test::run_sammpa("run --data " + (dir / "data").string() + " -k 3 --out " + (dir / "out").string());
  ASSERT_EQ(r.status, 0) << r.err;
  auto sel = nlohmann::json::parse(test::read_text(dir / "out/support.json"));
  ASSERT_EQ(sel["support"].size(), 3u);
  auto ev = nlohmann::json::parse(test::read_text(dir / "out/eval.json"));
  // Propagating phantom lobes between phantoms is easy: a failure of any step shows as a low Dice.
  double dice = ev["overall"]["dice"]["mean"];
  EXPECT_GT(dice, 0.9);
  for (const auto& n : sel["support"]) {  // supports are never scored nor predicted
    EXPECT_FALSE(fs::exists(dir / "out/coarse" / (n.get<std::string>() + ".png")));
  }
  EXPECT_EQ(test::count_files(dir / "out/coarse"), 11u);
  EXPECT_EQ(test::count_files(dir / "out/overlay"), 11u);
  EXPECT_EQ(test::count_files(dir / "out/soft"), 11u);
}

TEST(RunCli, UnannotatedSupportIsAnErrorAndLeavesNothing) {
  test::TempDir dir;
  write_phantom_dataset(dir / "data", {6, 64, 4});
  for (const auto& e : fs::directory_iterator(dir / "data/masks")) fs::remove(e.path());  // nothing annotated
  auto r = test::run_sammpa("run --data " + (dir / "data").string() + " -k 2 --out " + (dir / "out").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("annotate the selected support images first"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out"));
  auto r2 = test::run_sammpa("run --data " + (dir / "data").string() + " -k 7 --out " + (dir / "out").string());
  EXPECT_EQ(r2.status, 2);
  EXPECT_FALSE(fs::exists(dir / "out"));
}
