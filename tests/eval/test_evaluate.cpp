#include <fstream>
#include <map>

#include "common/error.h"
#include "common/progress.h"
#include "eval/evaluate.h"
#include "io/image_io.h"
#include "io/phantom.h"
#include "test_support.h"

using namespace sammpa;
namespace fs = std::filesystem;

namespace {

const bool kQuiet = (Progress::set_globally_enabled(false), true);

// A phantom dataset and a prediction folder holding copies of its ground-truth masks.
struct Fixture {
  test::TempDir dir;
  Dataset ds;
  fs::path pred;
  explicit Fixture(int count) {
    write_phantom_dataset(dir / "data", {count, 64, 3});
    ds = scan_dataset(dir / "data");
    pred = dir / "pred";
    for (const auto& s : ds.samples) write_png(pred / (s.name + ".png"), read_mask(*s.mask));
  }
};


}  // namespace

TEST(Evaluate, PerfectPredictionsScoreOneAndSupportsAreSkipped) {
  Fixture fx(6);
  // Replace one prediction by its mask shifted 2 pixels right: known scores from the metrics.
  const Sample& shifted = fx.ds.samples[4];
  cv::Mat truth = read_mask(*shifted.mask), moved = cv::Mat::zeros(truth.size(), CV_8UC1);
  truth(cv::Rect(0, 0, truth.cols - 2, truth.rows)).copyTo(moved(cv::Rect(2, 0, truth.cols - 2, truth.rows)));
  write_png(fx.pred / (shifted.name + ".png"), moved);
  fs::remove(fx.pred / (fx.ds.samples[0].name + ".png"));  // a support image needs no prediction

  EvalOptions opt;
  opt.pred_dir = fx.pred;
  opt.support = {fx.ds.samples[0].name, fx.ds.samples[1].name};
  EvalReport r = evaluate(fx.ds, opt);
  ASSERT_EQ(r.images.size(), 4u);
  EXPECT_EQ(r.support_skipped, 2u);
  for (const auto& im : r.images) {
    EXPECT_NE(im.name, fx.ds.samples[0].name);
    EXPECT_NE(im.name, fx.ds.samples[1].name);
    EXPECT_EQ(im.group, "all");
    MaskScores expect = im.name == shifted.name ? score_masks(moved, truth) : MaskScores{1, 1, 0.0};
    EXPECT_DOUBLE_EQ(im.scores.dice, expect.dice) << im.name;
    EXPECT_DOUBLE_EQ(im.scores.iou, expect.iou) << im.name;
    EXPECT_DOUBLE_EQ(*im.scores.hd95, *expect.hd95) << im.name;
  }
  const double shifted_dice = score_masks(moved, truth).dice;
  EXPECT_LT(shifted_dice, 1.0);
  EXPECT_NEAR(r.overall.dice.mean, (3 + shifted_dice) / 4, 1e-12);
  EXPECT_DOUBLE_EQ(r.overall.dice.median, 1.0);
  EXPECT_DOUBLE_EQ(r.overall.hd95.median, 0.0);
  EXPECT_EQ(r.overall.hd95.n, 4u);
  EXPECT_TRUE(r.groups.empty());
}

TEST(Evaluate, MissingPredictionIsAnErrorUnlessCountedAsEmpty) {
  Fixture fx(4);
  fs::remove(fx.pred / (fx.ds.samples[2].name + ".png"));
  EvalOptions opt;
  opt.pred_dir = fx.pred;
  std::string msg = test::error_of([&] { evaluate(fx.ds, opt); });
  EXPECT_NE(msg.find("no prediction for query image '" + fx.ds.samples[2].name + "'"), std::string::npos) << msg;
  opt.missing_as_empty = true;
  EvalReport r = evaluate(fx.ds, opt);
  EXPECT_EQ(r.missing_predictions, 1u);
  EXPECT_TRUE(r.images[2].missing_prediction);
  EXPECT_EQ(r.images[2].scores.dice, 0.0);
  EXPECT_FALSE(r.images[2].scores.hd95.has_value());
  EXPECT_EQ(r.overall.hd95.n, 3u);
  EXPECT_EQ(r.overall.hd95.undefined, 1u);
  EXPECT_DOUBLE_EQ(r.overall.dice.mean, 0.75);
}

TEST(Evaluate, SizeMismatchAndUnknownSupportAreErrorsNamingTheFile) {
  Fixture fx(3);
  const fs::path bad = fx.pred / (fx.ds.samples[1].name + ".png");
  write_png(bad, cv::Mat::zeros(32, 64, CV_8UC1));
  EvalOptions opt;
  opt.pred_dir = fx.pred;
  std::string msg = test::error_of([&] { evaluate(fx.ds, opt); });
  EXPECT_NE(msg.find(bad.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("64x32"), std::string::npos) << msg;
  opt.support = {"no_such_image"};
  EXPECT_NE(test::error_of([&] { evaluate(fx.ds, opt); }).find("no_such_image"), std::string::npos);
  opt.support = {};
  opt.pred_dir = fx.dir / "absent";
  EXPECT_NE(test::error_of([&] { evaluate(fx.ds, opt); }).find("prediction folder not found"), std::string::npos);
}

TEST(Evaluate, GroupsByPrefixOnRealBusiAndExcludesNormalFromOverall) {
  // The first five images of each BUSI class; predictions: the ground truth for benign_*, empty otherwise.
  Dataset all = scan_dataset(test::data_root() / "busi"), ds;
  ds.root = all.root;
  std::map<std::string, int> taken;
  for (const auto& s : all.samples)
    if (taken[name_prefix_group(s.name)]++ < 5) ds.samples.push_back(s);
  ASSERT_EQ(ds.size(), 15u);
  test::TempDir pred;
  for (const auto& s : ds.samples)
    if (name_prefix_group(s.name) == "benign") write_png(pred / (s.name + ".png"), read_mask(*s.mask));
  EvalOptions opt;
  opt.pred_dir = pred.path();
  opt.missing_as_empty = true;
  opt.group_by_prefix = true;
  opt.exclude_groups = {"normal"};
  EvalReport r = evaluate(ds, opt);
  ASSERT_EQ(r.groups.size(), 3u);
  std::map<std::string, ScoreSummary> g(r.groups.begin(), r.groups.end());
  EXPECT_DOUBLE_EQ(g["benign"].dice.mean, 1.0);
  EXPECT_DOUBLE_EQ(g["benign"].hd95.mean, 0.0);
  EXPECT_DOUBLE_EQ(g["malignant"].dice.mean, 0.0);  // tumours missed entirely
  EXPECT_EQ(g["malignant"].hd95.n, 0u);
  EXPECT_EQ(g["malignant"].hd95.undefined, 5u);
  EXPECT_DOUBLE_EQ(g["normal"].dice.mean, 1.0);  // empty prediction of an empty mask
  EXPECT_DOUBLE_EQ(g["normal"].hd95.mean, 0.0);
  EXPECT_EQ(r.overall.dice.n, 10u);  // benign + malignant
  EXPECT_DOUBLE_EQ(r.overall.dice.mean, 0.5);
  EXPECT_DOUBLE_EQ(r.overall.dice.std, 0.5);
  EXPECT_EQ(r.overall.hd95.undefined, 5u);

  // CSV: header plus one row per image; undefined HD95 is an empty cell. JSON: null.
  std::string csv = report_csv(r);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 16);
  EXPECT_EQ(csv.rfind("name,group,dice,iou,hd95\n", 0), 0u);
  EXPECT_NE(csv.find(r.images[5].name + ",malignant,0.000000,0.000000,\n"), std::string::npos) << csv;
  auto j = report_json(r);
  EXPECT_TRUE(j["images"][5]["hd95"].is_null());
  EXPECT_EQ(j["groups"]["normal"]["dice"]["n"], 5);
  EXPECT_EQ(j["overall"]["hd95"]["undefined"], 5);
  EXPECT_TRUE(j["groups"]["malignant"]["hd95"]["mean"].is_null());
  std::string table = report_table(r);
  EXPECT_NE(table.find("overall (without normal)"), std::string::npos) << table;

  opt.exclude_groups = {"normals"};  // a typo must not silently include the normal images
  EXPECT_NE(test::error_of([&] { evaluate(ds, opt); }).find("group 'normals' (groups: benign, malignant, normal)"),
            std::string::npos);
}

TEST(Evaluate, GroupsByTheNameUpToTheFirstSeparator) {
  EXPECT_EQ(name_prefix_group("benign_012"), "benign");
  EXPECT_EQ(name_prefix_group("benign (12)"), "benign");  // the original BUSI's names
  EXPECT_EQ(name_prefix_group("malignant(3)"), "malignant");
  EXPECT_EQ(name_prefix_group("CHNCXR_0001_0"), "CHNCXR");
  EXPECT_EQ(name_prefix_group("plain"), "plain");
}
