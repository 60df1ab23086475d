#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "eval/metrics.h"
#include "test_support.h"

using namespace sammpa;

namespace {

cv::Mat square(cv::Size size, int x, int y, int side) {
  cv::Mat m = cv::Mat::zeros(size, CV_8UC1);
  m(cv::Rect(x, y, side, side)).setTo(255);
  return m;
}

// Independent brute-force HD at percentile p: all pairs of boundary pixels, numpy-style interpolation.
double brute_force_percentile(const cv::Mat& a, const cv::Mat& b, double p) {
  std::vector<cv::Point> pa, pb;
  cv::findNonZero(mask_boundary(a), pa);
  cv::findNonZero(mask_boundary(b), pb);
  std::vector<double> d;
  auto directed = [&](const std::vector<cv::Point>& from, const std::vector<cv::Point>& to) {
    for (auto f : from) {
      double best = 1e300;
      for (auto t : to) best = std::min(best, std::hypot(double(f.x - t.x), double(f.y - t.y)));
      d.push_back(best);
    }
  };
  directed(pa, pb);
  directed(pb, pa);
  std::sort(d.begin(), d.end());
  double pos = p / 100 * (d.size() - 1);
  size_t lo = static_cast<size_t>(pos);
  size_t hi = std::min(lo + 1, d.size() - 1);
  return d[lo] + (pos - lo) * (d[hi] - d[lo]);
}

}  // namespace

TEST(Metrics, OverlappingSquaresHaveExactDiceAndIou) {
  cv::Size sz(64, 64);
  cv::Mat a = square(sz, 10, 10, 10), b = square(sz, 15, 10, 10);  // overlap 5x10 = 50 of 100 each
  EXPECT_DOUBLE_EQ(dice_score(a, b), 0.5);
  EXPECT_DOUBLE_EQ(iou_score(a, b), 50.0 / 150.0);
  cv::Mat c = square(sz, 12, 12, 4);  // inside a: 16 of 100
  EXPECT_DOUBLE_EQ(dice_score(c, a), 32.0 / 116.0);
  EXPECT_DOUBLE_EQ(iou_score(c, a), 16.0 / 100.0);
  EXPECT_DOUBLE_EQ(dice_score(a, a), 1.0);
  EXPECT_DOUBLE_EQ(dice_score(a, square(sz, 40, 40, 10)), 0.0);
  cv::Mat ones = a / 255;  // any non-zero value is foreground
  EXPECT_DOUBLE_EQ(dice_score(ones, b), 0.5);
}

TEST(Metrics, Hd95OfAShiftedSquareIsTheShift) {
  cv::Size sz(100, 100);
  cv::Mat a = square(sz, 30, 30, 20);
  for (int d : {1, 3, 7}) {
    EXPECT_DOUBLE_EQ(*hd95(a, square(sz, 30 + d, 30, 20)), d) << d;
    EXPECT_DOUBLE_EQ(*hd95(square(sz, 30, 30 + d, 20), a), d) << d;
  }
  EXPECT_DOUBLE_EQ(*hd95(a, a), 0.0);
}

TEST(Metrics, HausdorffOfTwoPixelsIsTheirEuclideanDistance) {
  cv::Mat a = cv::Mat::zeros(20, 20, CV_8UC1), b = a.clone();
  a.at<uint8_t>(2, 3) = 255;
  b.at<uint8_t>(6, 6) = 255;  // 3 right, 4 down: distance 5
  EXPECT_NEAR(*surface_distance_percentile(a, b, 100), 5.0, 1e-5);
  EXPECT_NEAR(*hd95(a, b), 5.0, 1e-5);
}

TEST(Metrics, Hd95MatchesBruteForceOnRandomShapes) {
  cv::theRNG().state = 4;
  for (int trial = 0; trial < 6; ++trial) {
    cv::Mat a = cv::Mat::zeros(48, 56, CV_8UC1), b = a.clone();
    for (int k = 0; k < 3; ++k) {
      cv::circle(a, {cv::theRNG().uniform(0, 56), cv::theRNG().uniform(0, 48)}, cv::theRNG().uniform(2, 12), 255, -1);
      cv::ellipse(b, {cv::theRNG().uniform(0, 56), cv::theRNG().uniform(0, 48)},
                  {cv::theRNG().uniform(2, 14), cv::theRNG().uniform(2, 9)}, cv::theRNG().uniform(0, 180),
                  0, 360, 255, -1);
    }
    for (double p : {50.0, 95.0, 100.0})
      EXPECT_NEAR(*surface_distance_percentile(a, b, p), brute_force_percentile(a, b, p), 1e-4) << trial << " " << p;
    EXPECT_NEAR(*hd95(a, b), brute_force_percentile(a, b, 95), 1e-4) << trial;
  }
}

TEST(Metrics, BoundaryIsTheFourConnectedEdgeAndTheImageBorderCounts) {
  cv::Mat a = square({20, 20}, 5, 5, 5);
  EXPECT_EQ(cv::countNonZero(mask_boundary(a)), 16);  // 25 pixels minus the 3x3 interior
  cv::Mat full(10, 12, CV_8UC1, cv::Scalar(255));
  EXPECT_EQ(cv::countNonZero(mask_boundary(full)), 2 * 12 + 2 * 8);
}

TEST(Metrics, EmptyMaskConventions) {
  cv::Mat empty = cv::Mat::zeros(30, 30, CV_8UC1), a = square({30, 30}, 5, 5, 8);
  MaskScores both = score_masks(empty, empty);
  EXPECT_EQ(both.dice, 1.0);
  EXPECT_EQ(both.iou, 1.0);
  ASSERT_TRUE(both.hd95.has_value());
  EXPECT_EQ(*both.hd95, 0.0);
  for (const auto& s : {score_masks(empty, a), score_masks(a, empty)}) {
    EXPECT_EQ(s.dice, 0.0);
    EXPECT_EQ(s.iou, 0.0);
    EXPECT_FALSE(s.hd95.has_value());
  }
  EXPECT_THROW(score_masks(a, cv::Mat::zeros(31, 30, CV_8UC1)), std::invalid_argument);
}

TEST(Metrics, SummaryAndPercentileMatchNumpyConventions) {
  Summary s = summarize(std::vector<double>{1, 2, 3, 4});
  EXPECT_EQ(s.n, 4u);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(1.25));  // numpy.std (population)
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(percentile({5, 1, 4, 2, 3}, 95), 4.8);  // numpy.percentile([1..5], 95)
  EXPECT_DOUBLE_EQ(percentile({7}, 95), 7);
  Summary h = summarize(std::vector<std::optional<double>>{3.0, std::nullopt, 5.0, std::nullopt, 10.0});
  EXPECT_EQ(h.n, 3u);
  EXPECT_EQ(h.undefined, 2u);
  EXPECT_DOUBLE_EQ(h.mean, 6.0);
  EXPECT_DOUBLE_EQ(h.median, 5.0);
  Summary none = summarize(std::vector<std::optional<double>>{std::nullopt});
  EXPECT_EQ(none.n, 0u);
  EXPECT_EQ(none.undefined, 1u);
  EXPECT_TRUE(std::isnan(none.mean));
}

// The rule every "only on clear evidence" decision of the leave-one-out uses (steps 3-4 skipped, several
// objects per image): a mean above one standard error of the paired differences.
TEST(Metrics, ClearlyPositiveNeedsMoreThanOneImageAndAMeanAboveItsStandardError) {
  EXPECT_TRUE(clearly_positive({0.05, 0.04, 0.06, 0.05}));
  EXPECT_FALSE(clearly_positive({0.0, 0.0, 0.0}));
  // One support of ten changed: the mean equals the standard error exactly; not evidence, whatever the rounding.
  for (double d : {0.003, 0.1, 0.3307, 1.0}) {
    std::vector<double> one(10, 0.0);
    one[3] = d;
    EXPECT_FALSE(clearly_positive(one)) << d;
  }
  std::vector<double> two(10, 0.0);
  two[1] = two[7] = 0.05;  // mean 0.01, standard error 0.0067
  EXPECT_TRUE(clearly_positive(two));
  EXPECT_FALSE(clearly_positive({0.2, -0.19, 0.01}));  // mean 0.0067, standard error 0.11
  EXPECT_FALSE(clearly_positive({0.5}));
  EXPECT_FALSE(clearly_positive({}));
}
