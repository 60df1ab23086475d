// The four steps as one library call on a small real chest X-ray subset: SAM with the default prompts and
// refinement must beat registration alone (the coarse masks), so that the test fails if SAM, the prompts or
// the refinement silently stop working.
#include "pipeline/pipeline.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "real_subset.h"
#include "test_support.h"

using namespace sammpa;
namespace fs = std::filesystem;

namespace {

// A dataset folder of symbolic links to `n` images (and masks) spread over a real dataset, optionally only
// those whose name starts with one of `prefixes`.
Dataset real_subset(const std::string& name, size_t n, const fs::path& dir, std::vector<std::string> prefixes = {}) {
  test::link_spread(test::with_prefix(scan_dataset(test::data_root() / name), prefixes), n, dir);
  return scan_dataset(dir);
}

}  // namespace

TEST(PipelineReal, SamBeatsRegistrationOnChestXray) {
  test::TempDir dir;
  const Dataset ds = real_subset("cxr", 16, dir / "data");
  PipelineOptions o;
  o.select.k = 4;
  o.propagation = Propagation::automatic;  // leave-one-out must keep registration on chest X-rays
  o.segment.overlays = false;
  o.segment.embeddings = dir / "out/embeddings";
  fs::create_directories(dir / "out");
  PipelineResult r = run_pipeline(ds, o, dir / "out");
  EXPECT_EQ(r.propagation_used, Propagation::registration);
  ASSERT_TRUE(r.final_scores && r.coarse_scores);
  ASSERT_EQ(r.final_scores->images.size(), 12u);  // supports never scored
  const double coarse = r.coarse_scores->overall.dice.mean, final = r.final_scores->overall.dice.mean;
  size_t better = 0;
  for (size_t i = 0; i < r.final_scores->images.size(); ++i)
    better += r.final_scores->images[i].scores.dice > r.coarse_scores->images[i].scores.dice;
  std::printf("[ cxr 12 queries, K = 4 ] coarse Dice %.4f, final %.4f, better on %zu\n", coarse, final, better);
  EXPECT_GT(coarse, 0.88);          // registration works
  EXPECT_GT(final, coarse + 0.004);  // and SAM improves on it
  EXPECT_GE(better, 8u);
  // Every query's prompts are on record: two lungs, each with a box and a positive point.
  auto prompts = nlohmann::json::parse(test::read_text(dir / "out/prompts" / (r.segment.queries[0].name + ".json")));
  ASSERT_EQ(prompts["objects"].size(), 2u);
  for (const auto& obj : prompts["objects"]) {
    EXPECT_TRUE(obj.contains("box"));
    EXPECT_EQ(obj["points"][0]["label"], 1);
  }
}

TEST(Pipeline, ScoresAreGroupedOnlyWhenNamesSharePrefixes) {
  EXPECT_TRUE(names_share_prefixes({"benign_1", "benign_2", "malignant_1", "malignant_2"}));
  EXPECT_TRUE(names_share_prefixes({"CHNCXR_0001_0", "CHNCXR_0002_0"}));
  EXPECT_FALSE(names_share_prefixes({"a81f_x", "b2c9_y", "c0d1_z"}));  // random ids: one group per image
  EXPECT_FALSE(names_share_prefixes({"001", "002", "003", "004"}));    // plain numbers
  EXPECT_FALSE(names_share_prefixes({}));
}

TEST(PipelineReal, FeaturePropagationFindsBreastLesionsThatRegistrationMisses) {
  test::TempDir dir;
  const Dataset ds = real_subset("busi", 16, dir / "data", {"benign_", "malignant_"});
  PipelineOptions o;
  o.select.k = 5;
  o.propagation = Propagation::automatic;
  o.segment.overlays = false;
  o.segment.embeddings = dir / "out/embeddings";
  fs::create_directories(dir / "out");
  PipelineResult r = run_pipeline(ds, o, dir / "out");
  auto loo = nlohmann::json::parse(test::read_text(dir / "out/self_config.json"));
  const double reg = loo["modes"]["registration"]["mean_final_dice"], feat = loo["modes"]["feature"]["mean_final_dice"];
  const double final = r.final_scores->overall.dice.mean;
  std::printf("[ busi 11 lesion queries, K = 5 ] leave-one-out final Dice: registration %.3f, feature %.3f, "
              "ranked %.3f -> %s; queries: coarse %.3f, final %.3f\n", reg, feat,
              loo["modes"]["ranked"]["mean_final_dice"].get<double>(), propagation_name(r.propagation_used).c_str(),
              r.coarse_scores->overall.dice.mean, final);
  EXPECT_NE(r.propagation_used, Propagation::registration);  // feature or ranked: both find the lesion
  EXPECT_TRUE(loo["modes"].contains("ranked"));
  EXPECT_GT(feat, reg + 0.1);
  EXPECT_GT(final, 0.3);  // registration gives about 0.05 on BUSI
}

TEST(PipelineReal, FusedSoftMapIsTheMeanOfRegistrationsAndFeaturePropagations) {
  test::TempDir dir;
  const Dataset ds = real_subset("cxr", 10, dir / "data");
  auto run = [&](Propagation mode, const std::string& out) {
    PipelineOptions o;
    o.support = {ds.samples[0].name, ds.samples[3].name, ds.samples[6].name};
    o.propagation = mode;
    o.sam = false;  // step 2 alone: the coarse masks are the answers
    o.segment.overlays = false;
    o.segment.embeddings = dir / "embeddings";  // shared: each image encoded once
    fs::create_directories(dir / out);
    return run_pipeline(ds, o, dir / out);
  };
  run(Propagation::registration, "reg");
  run(Propagation::feature, "feat");
  const PipelineResult fused = run(Propagation::fused, "fused");
  EXPECT_EQ(fused.propagation_used, Propagation::fused);
  ASSERT_EQ(fused.propagation.queries.size(), 7u);
  auto pj = nlohmann::json::parse(test::read_text(dir / "fused/propagation.json"));
  EXPECT_EQ(pj["mode"], "fused");
  size_t differ = 0;
  for (const auto& q : fused.propagation.queries) {
    auto read = [&](const std::string& out, const std::string& kind) {
      return cv::imread((dir / out / kind / (q.name + ".png")).string(), cv::IMREAD_GRAYSCALE);
    };
    cv::Mat reg = read("reg", "soft"), feat = read("feat", "soft"), soft = read("fused", "soft");
    ASSERT_FALSE(reg.empty() || feat.empty() || soft.empty()) << q.name;
    cv::Mat mean, err;
    cv::addWeighted(reg, 0.5, feat, 0.5, 0.0, mean, CV_32F);
    cv::absdiff(mean, cv::Mat_<float>(soft), err);
    double worst = 0;
    cv::minMaxLoc(err, nullptr, &worst);
    EXPECT_LE(worst, 1.0) << q.name;  // each map rounded to 8 bits once
    // The coarse mask is the fused map at one half, here unlike registration's own.
    cv::Mat coarse = read("fused", "coarse"), expected = mean >= 127.5;
    EXPECT_LE(cv::countNonZero(coarse != expected), 0.002 * coarse.total()) << q.name;
    differ += cv::countNonZero(coarse != read("reg", "coarse")) > 0;
  }
  EXPECT_GT(differ, 0u);
}
