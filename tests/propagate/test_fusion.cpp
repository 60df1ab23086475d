// Fusion rules on hand-made masks with known answers.
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "propagate/fusion.h"
#include "test_support.h"

using namespace sammpa;

namespace {
cv::Mat row(std::initializer_list<float> v) { return cv::Mat(std::vector<float>(v), true).reshape(1, 1); }
std::vector<uchar> bits(const cv::Mat& m) { return std::vector<uchar>(m.begin<uchar>(), m.end<uchar>()); }
}  // namespace

TEST(Fusion, BestVoteAndMajorityDisagreeWhenOneSupportIsMuchMoreSimilar) {
  std::vector<cv::Mat> masks = {row({1, 0}), row({0, 1}), row({0, 1})};
  std::vector<double> sim = {0.95, 0.50, 0.50};
  Fused best = fuse(masks, sim, Fusion::best);
  EXPECT_EQ(best.chosen, 0);
  EXPECT_EQ(bits(best.mask), (std::vector<uchar>{255, 0}));
  Fused majority = fuse(masks, sim, Fusion::majority);
  EXPECT_EQ(bits(majority.mask), (std::vector<uchar>{0, 255}));
  EXPECT_NEAR(majority.soft.at<float>(0, 1), 2.0 / 3.0, 1e-6);
  Fused vote = fuse(masks, sim, Fusion::vote, 0.05);  // weights 1, e^-9, e^-9
  double w = std::exp(-9.0);
  EXPECT_NEAR(vote.soft.at<float>(0, 0), 1.0 / (1 + 2 * w), 1e-6);
  EXPECT_EQ(bits(vote.mask), (std::vector<uchar>{255, 0}));
  // With a high temperature the weights even out and vote agrees with the majority.
  Fused flat = fuse(masks, sim, Fusion::vote, 100.0);
  EXPECT_EQ(bits(flat.mask), (std::vector<uchar>{0, 255}));
}

TEST(Fusion, VoteAveragesSoftValuesWhileMajorityBinarisesFirst) {
  std::vector<cv::Mat> masks = {row({0.6f, 0.2f}), row({0.45f, 0.2f}), row({0.45f, 0.2f})};
  std::vector<double> sim = {0.8, 0.8, 0.8};
  Fused vote = fuse(masks, sim, Fusion::vote);
  EXPECT_NEAR(vote.soft.at<float>(0, 0), 0.5, 1e-6);  // equal weights: mean 1.5 / 3
  EXPECT_EQ(bits(vote.mask), (std::vector<uchar>{255, 0}));
  Fused majority = fuse(masks, sim, Fusion::majority);  // one vote in three
  EXPECT_NEAR(majority.soft.at<float>(0, 0), 1.0 / 3.0, 1e-6);
  EXPECT_EQ(bits(majority.mask), (std::vector<uchar>{0, 0}));
}

TEST(Fusion, TiesGoToForegroundAndToTheFirstSupport) {
  std::vector<cv::Mat> masks = {row({1, 0}), row({0, 0})};
  std::vector<double> sim = {0.7, 0.7};
  EXPECT_EQ(bits(fuse(masks, sim, Fusion::majority).mask), (std::vector<uchar>{255, 0}));
  EXPECT_EQ(fuse(masks, sim, Fusion::best).chosen, 0);
}

TEST(Fusion, VoteWeightsAndNames) {
  auto w = vote_weights({0.9, 0.8}, 0.1);
  EXPECT_NEAR(w[0], 1.0, 1e-12);
  EXPECT_NEAR(w[1], std::exp(-1.0), 1e-12);
  for (Fusion f : all_fusions()) EXPECT_EQ(parse_fusion(fusion_name(f)), f);
  EXPECT_THROW(parse_fusion("mean"), InputError);
}

TEST(Fusion, LocalFollowsTheSupportThatMatchesTheQueryInEachRegion) {
  // A 16 x 32 query of noise. Support A's warped image equals it on the left half only, B's on the right half
  // only; A's mask is foreground everywhere, B's background everywhere. Both are equally similar globally, so
  // `vote` averages them to 0.5 everywhere, while `local` follows A on the left and B on the right.
  cv::Mat query(16, 32, CV_32F), a(16, 32, CV_32F), b(16, 32, CV_32F);
  cv::RNG rng(7);
  rng.fill(query, cv::RNG::UNIFORM, 0.0, 1.0);
  query.copyTo(a);
  query.copyTo(b);
  cv::Mat noise(16, 16, CV_32F);
  rng.fill(noise, cv::RNG::UNIFORM, 0.0, 1.0);
  noise.copyTo(a.colRange(16, 32));  // A differs from the query on the right
  rng.fill(noise, cv::RNG::UNIFORM, 0.0, 1.0);
  noise.copyTo(b.colRange(0, 16));   // B differs on the left
  const cv::Mat mask_a(16, 32, CV_32F, cv::Scalar(1)), mask_b(16, 32, CV_32F, cv::Scalar(0));
  const auto local = local_weights(query, {a, b}, LocalWeights{2, 0.5});
  ASSERT_EQ(local.size(), 2u);
  // Full-size masks at twice the working size: the weights are resized to them.
  cv::Mat big_a, big_b;
  cv::resize(mask_a, big_a, {64, 32});
  cv::resize(mask_b, big_b, {64, 32});
  const Fused f = fuse({big_a, big_b}, {0.5, 0.5}, Fusion::local, 0.05, local);
  EXPECT_GT(f.soft.at<float>(16, 8), 0.9f);   // left: A's mask
  EXPECT_LT(f.soft.at<float>(16, 56), 0.1f);  // right: B's mask
  EXPECT_NEAR(fuse({big_a, big_b}, {0.5, 0.5}, Fusion::vote).soft.at<float>(16, 8), 0.5f, 1e-6);
  EXPECT_THROW(fuse({big_a, big_b}, {0.5, 0.5}, Fusion::local), InputError);  // no weight maps
}
