// The ranked mode's parts on constructed data: the frame arithmetic, the features of known masks, the ridge
// ranker, and the leave-one-out choice of the "no object" threshold.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <tuple>
#include <vector>
#include <opencv2/imgproc.hpp>

#include "refine/candidates.h"
#include "refine/ranker.h"
#include "sam/transforms.h"

using namespace sammpa;

namespace {

size_t feature(const std::string& name) {
  const auto& n = candidate_feature_names();
  return static_cast<size_t>(std::find(n.begin(), n.end(), name) - n.begin());
}

// An image whose candidates have features {quality + noise, noise} and IoU = quality; or, with empty truth,
// candidates whose quality feature is low and IoU 0.
RankedImage image_with(double quality, bool empty, cv::RNG& rng) {
  RankedImage im;
  im.empty_truth = empty;
  for (int c = 0; c < 6; ++c) {
    const double q = empty ? 0.1 * rng.uniform(0.0, 1.0) : quality * (c + 1) / 6.0;
    im.features.push_back({q + 0.01 * rng.gaussian(1.0), rng.gaussian(1.0)});
    im.iou.push_back(empty ? 0.0 : q);
    im.dice.push_back(empty ? 0.0 : 2 * q / (1 + q));
  }
  return im;
}

}  // namespace

TEST(Candidates, WorkFrameIsTheUnpaddedPartOfTheLowResolutionFrame) {
  // 600 x 450 -> 1024 x 768 in SAM's 1024 input -> 256 x 192 in its 256 x 256 low-resolution frame.
  EXPECT_EQ(work_size(sam::make_frame(450, 600, 1024, 256)), cv::Size(256, 192));
  // LiteMedSAM: a 256 input and a 256 low-resolution frame: the work frame is the resized image itself.
  EXPECT_EQ(work_size(sam::make_frame(450, 600, 256, 256)), cv::Size(256, 192));
  const cv::Mat white(450, 600, CV_8UC1, cv::Scalar(255));
  const cv::Mat w = to_work_frame(white, sam::make_frame(450, 600, 1024, 256));
  EXPECT_EQ(w.size(), cv::Size(256, 192));
  EXPECT_NEAR(cv::mean(w)[0], 255.0, 1e-3);
}

TEST(Candidates, GridBoxesAreCentredOnTheGridAndClippedToTheImage) {
  CandidateOptions o;
  EXPECT_TRUE(grid_boxes(600, 400, o).empty());  // off by default
  o.box_grid = 2;
  o.box_sizes = {0.2, 0.5};
  o.box_aspects = {1.0, 4.0};
  const std::vector<std::array<float, 4>> b = grid_boxes(600, 400, o);
  ASSERT_EQ(b.size(), 2u * 2u * 2u * 2u);
  // First cell (centre 150, 100), size 0.2 of 600 = 120, square: 90..210 x 40..160.
  EXPECT_FLOAT_EQ(b[0][0], 90.f);
  EXPECT_FLOAT_EQ(b[0][1], 40.f);
  EXPECT_FLOAT_EQ(b[0][2], 210.f);
  EXPECT_FLOAT_EQ(b[0][3], 160.f);
  // Same cell and size, aspect 4: 240 wide, 60 high.
  EXPECT_FLOAT_EQ(b[1][2] - b[1][0], 240.f);
  EXPECT_FLOAT_EQ(b[1][3] - b[1][1], 60.f);
  // Size 0.5 (300 x 300) around (150, 100) is clipped at the top-left corner.
  EXPECT_FLOAT_EQ(b[2][0], 0.f);
  EXPECT_FLOAT_EQ(b[2][1], 0.f);
  EXPECT_FLOAT_EQ(b[2][2], 300.f);
  EXPECT_FLOAT_EQ(b[2][3], 250.f);
  // The last cell is the bottom-right one (centre 450, 300), clipped at the image's far edges.
  EXPECT_FLOAT_EQ(0.5f * (b[12][0] + b[12][2]), 450.f);
  EXPECT_FLOAT_EQ(b[14][2], 600.f);
  EXPECT_FLOAT_EQ(b[14][3], 400.f);
}

TEST(Ranker, FeaturesOfAKnownSquare) {
  MaskCandidate c;
  c.mask = cv::Mat::zeros(100, 100, CV_8UC1);
  c.mask(cv::Rect(40, 40, 20, 20)).setTo(255);
  c.iou = 0.9f;
  c.stability = 0.8f;
  cv::Mat soft = cv::Mat::zeros(100, 100, CV_32F);
  soft(cv::Rect(40, 40, 20, 20)).setTo(1.f);
  cv::Mat grey(100, 100, CV_32F, cv::Scalar(200));
  grey(cv::Rect(40, 40, 20, 20)).setTo(50.f);  // a dark lesion in bright tissue
  const auto f = candidate_features({c}, soft, grey)[0];
  ASSERT_EQ(f.size(), candidate_feature_names().size());
  EXPECT_FLOAT_EQ(f[feature("sam_iou")], 0.9f);
  EXPECT_NEAR(f[feature("soft_inside")], 1.0, 1e-9);
  EXPECT_NEAR(f[feature("soft_ring")], 0.0, 1e-9);
  EXPECT_NEAR(f[feature("soft_held")], 1.0, 1e-9);
  EXPECT_NEAR(f[feature("area")], 0.04, 1e-9);
  EXPECT_NEAR(f[feature("centre_x")], 0.495, 1e-9);  // pixel centres 40..59 of 100
  EXPECT_EQ(f[feature("touches_border")], 0.0);
  EXPECT_NEAR(f[feature("solidity")], 1.0, 0.1);
  EXPECT_LT(f[feature("grey_contrast")], -3.0);  // darker than its ring by many image standard deviations
  c.mask(cv::Rect(0, 0, 5, 5)).setTo(255);
  EXPECT_EQ(candidate_features({c}, soft, grey)[0][feature("touches_border")], 1.0);
}

namespace {

MaskCandidate disc(int x, int y, int r) {
  MaskCandidate c;
  c.mask = cv::Mat::zeros(100, 100, CV_8UC1);
  cv::circle(c.mask, {x, y}, r, cv::Scalar(255), cv::FILLED);
  return c;
}

}  // namespace

// Two lungs: a candidate that is one of them is labelled by how well it matches that object, not the whole
// truth, so that it can rank as high as a candidate of both; a single-object truth keeps the plain IoU.
TEST(Ranker, LabelIsTheIoUWithTheObjectsACandidateCovers) {
  const MaskCandidate left = disc(25, 50, 15), right = disc(75, 50, 15);
  const cv::Mat truth = left.mask | right.mask;
  MaskCandidate both;
  both.mask = truth.clone();
  MaskCandidate left_and_sliver = left;
  left_and_sliver.mask = left.mask.clone();
  left_and_sliver.mask(cv::Rect(60, 48, 4, 4)).setTo(255);  // 16 pixels, under a tenth of the right disc
  const MaskCandidate elsewhere = disc(50, 90, 5);
  MaskCandidate half_left = left;
  half_left.mask = left.mask.clone();
  half_left.mask(cv::Rect(0, 0, 25, 100)).setTo(0);
  const cv::Mat grey(100, 100, CV_32F, cv::Scalar(100)), soft = cv::Mat::zeros(100, 100, CV_32F);
  cv::Mat truth_f;
  truth.convertTo(truth_f, CV_32F);
  const RankedImage im = label_candidates({left, both, left_and_sliver, elsewhere, half_left}, soft, grey, truth_f);
  EXPECT_NEAR(im.iou[0], 1.0, 1e-12);
  EXPECT_NEAR(im.dice[0], 2.0 / 3, 0.01);  // what the answer scores is still the whole truth's Dice
  EXPECT_NEAR(im.iou[1], 1.0, 1e-12);
  const double area = cv::countNonZero(left.mask);
  EXPECT_NEAR(im.iou[2], area / (area + 16), 1e-12);  // the sliver is a false positive, not a second object
  EXPECT_EQ(im.iou[3], 0.0);
  EXPECT_NEAR(im.iou[4], cv::countNonZero(half_left.mask) / area, 1e-12);
  // One object: the plain IoU.
  cv::Mat one_f;
  left.mask.convertTo(one_f, CV_32F);
  const RankedImage single = label_candidates({both, half_left}, soft, grey, one_f);
  EXPECT_NEAR(single.iou[0], 0.5, 0.01);
  EXPECT_NEAR(single.iou[1], im.iou[4], 1e-12);
}

TEST(Ranker, ChooseObjectsAddsCandidatesElsewhereThatScoreNearTheBest) {
  const std::vector<MaskCandidate> cands = {disc(25, 50, 15), disc(28, 50, 15), disc(75, 50, 15), disc(75, 90, 6),
                                            disc(20, 10, 5)};
  const std::vector<double> scores = {0.9, 0.85, 0.8, 0.3, 0.95};
  // The best (index 4) alone: one object per image.
  EXPECT_EQ(choose_objects(scores, cands, 0.0), (std::vector<int>{4}));
  // 0.75 x 0.95 = 0.71: the two discs above it join, but the second left disc lies inside the first.
  EXPECT_EQ(choose_objects(scores, cands, 0.75), (std::vector<int>{4, 0, 2}));
  EXPECT_EQ(choose_objects(scores, cands, 0.3), (std::vector<int>{4, 0, 2, 3}));
  EXPECT_EQ(choose_objects(scores, cands, 0.3, 0.2, 2), (std::vector<int>{4, 0}));
  // A larger overlap allowed: the near-copy of the left disc is taken too.
  EXPECT_EQ(choose_objects(scores, cands, 0.75, 0.95), (std::vector<int>{4, 0, 1, 2}));
  EXPECT_TRUE(choose_objects({}, {}, 0.75).empty());
  // A best score of zero or below is no basis for a ratio.
  EXPECT_EQ(choose_objects({-0.1, -0.2}, {cands[0], cands[2]}, 0.5), (std::vector<int>{0}));
}

TEST(Ranker, LearnsWhichFeatureCarriesTheIoU) {
  cv::RNG rng(1);
  std::vector<RankedImage> images;
  for (int i = 0; i < 6; ++i) images.push_back(image_with(0.5 + 0.08 * i, false, rng));
  std::vector<const RankedImage*> refs;
  for (const auto& im : images) refs.push_back(&im);
  const CandidateRanker r = CandidateRanker::train(refs, {0.01});
  for (const auto& im : images) EXPECT_EQ(r.choose(im.features), 5);  // the best candidate is the last
  const double signal = r.score({0.9, 0.0}) - r.score({0.2, 0.0});
  EXPECT_GT(signal, 0.5);  // close to the 0.7 difference in IoU
  EXPECT_LT(std::abs(r.score({0.9, 1.0}) - r.score({0.9, -1.0})), 0.1 * signal);  // noise feature: little weight
}

TEST(Ranker, NeverAnswersEmptyWhenEverySupportHasAnObject) {
  cv::RNG rng(2);
  std::vector<RankedImage> images;
  for (int i = 0; i < 5; ++i) images.push_back(image_with(0.4 + 0.1 * i, false, rng));
  const RankerLeaveOneOut loo = rank_leave_one_out(images, {});
  EXPECT_LT(loo.threshold, -1e299);
  for (size_t i = 0; i < images.size(); ++i) EXPECT_NEAR(loo.dice[i], images[i].dice[5], 1e-12) << i;
}

TEST(Ranker, LeaveOneOutSetsAThresholdThatEmptiesImagesWithoutObject) {
  cv::RNG rng(3);
  std::vector<RankedImage> images;
  for (int i = 0; i < 4; ++i) images.push_back(image_with(0.6 + 0.1 * i, false, rng));
  for (int i = 0; i < 3; ++i) images.push_back(image_with(0, true, rng));
  const RankerLeaveOneOut loo = rank_leave_one_out(images, {});
  EXPECT_GT(loo.threshold, -1e299);
  for (size_t i = 0; i < 4; ++i) EXPECT_GT(loo.dice[i], 0.7) << i;   // objects kept
  for (size_t i = 4; i < 7; ++i) EXPECT_EQ(loo.dice[i], 1.0) << i;  // empty answers on empty truths
  // Told that every image holds the object, it never answers empty, whatever the supports' mix.
  RankerOptions never;
  never.allow_empty = false;
  const RankerLeaveOneOut kept = rank_leave_one_out(images, never);
  EXPECT_LT(kept.threshold, -1e299);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(kept.dice[i], loo.dice[i]) << i;
  for (size_t i = 4; i < 7; ++i) EXPECT_EQ(kept.dice[i], 0.0) << i;
}

// --ranked-empty queries: the queries' best scores form two groups that sit lower than the supports' (the
// supports are the typical images); the mixture puts the threshold between the queries' groups, where the
// supports' own threshold would cut into the lesion group, and estimates the share without an object.
TEST(Ranker, MixtureThresholdSitsBetweenTheQueriesOwnGroups) {
  cv::RNG rng(7);
  std::vector<double> queries;
  for (int i = 0; i < 40; ++i) queries.push_back(0.12 + 0.02 * rng.gaussian(1.0));   // no object
  for (int i = 0; i < 160; ++i) queries.push_back(0.30 + 0.05 * rng.gaussian(1.0));  // an object
  const std::vector<double> empty_supports = {0.16, 0.21, 0.24}, object_supports = {0.26, 0.33, 0.38, 0.41};
  const auto m = mixture_threshold(queries, empty_supports, object_supports);
  ASSERT_TRUE(m.has_value());
  EXPECT_GT(m->threshold, 0.15);
  EXPECT_LT(m->threshold, 0.22);
  EXPECT_NEAR(m->weight_empty, 0.2, 0.05);
  EXPECT_NEAR(m->mean_empty, 0.12, 0.01);
  EXPECT_NEAR(m->mean_object, 0.30, 0.015);
  size_t wrong = 0;
  for (int i = 0; i < 200; ++i) wrong += (queries[i] < m->threshold) != (i < 40);
  EXPECT_LE(wrong, 8u);
  // The supports' threshold (above the highest object-free support, 0.24) would empty a tenth of the lesions.
  size_t lesions_below = 0;
  for (int i = 40; i < 200; ++i) lesions_below += queries[i] < 0.24;
  EXPECT_GT(lesions_below, 10u);
  // Without supports of both kinds there is nothing to start from.
  EXPECT_FALSE(mixture_threshold(queries, {}, object_supports).has_value());
  EXPECT_FALSE(mixture_threshold(queries, empty_supports, {}).has_value());
  EXPECT_FALSE(mixture_threshold({0.3}, empty_supports, object_supports).has_value());
}

// Few candidates and many features that carry nothing: a weak penalty fits the noise, and the held-out squared
// error of the predicted IoU, the loss the ridge fits, says so (docs/RESULTS.md, "The ranker's penalty").
TEST(Ranker, PenaltyByHeldOutErrorResistsNoiseFeatures) {
  cv::RNG rng(7);
  std::vector<RankedImage> images;
  for (int i = 0; i < 5; ++i) {
    RankedImage im = image_with(0.5 + 0.1 * i, false, rng);
    for (auto& f : im.features) {
      f[0] += rng.gaussian(0.2);  // the one useful feature, blurred
      for (int k = 0; k < 10; ++k) f.push_back(rng.gaussian(1.0));
    }
    images.push_back(std::move(im));
  }
  RankerOptions by_error{0.0};
  by_error.penalty_rule = PenaltyRule::error;
  const PenaltyChoice c = choose_penalty(images, by_error);
  ASSERT_EQ(c.error_by_penalty.size(), ranker_penalties().size());
  ASSERT_EQ(c.by_penalty.size(), ranker_penalties().size());
  const auto least = std::min_element(c.error_by_penalty.begin(), c.error_by_penalty.end());
  EXPECT_EQ(c.l2, ranker_penalties()[least - c.error_by_penalty.begin()]);
  EXPECT_GT(c.l2, ranker_penalties().front());
  EXPECT_GT(c.error_by_penalty.front(), 1.5 * *least);  // the weakest penalty overfits the noise
  EXPECT_NEAR(c.loo.mean_squared_error(), *least, 1e-12);
  // The error itself: each held-out image's candidates scored by a ranker fitted on the other four.
  RankerOptions fixed{c.l2};
  double sum = 0;
  size_t n = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    std::vector<const RankedImage*> others;
    for (size_t j = 0; j < images.size(); ++j)
      if (j != i) others.push_back(&images[j]);
    const CandidateRanker r = CandidateRanker::train(others, fixed);
    double own = 0;
    for (size_t k = 0; k < images[i].features.size(); ++k)
      own += std::pow(r.score(images[i].features[k]) - images[i].iou[k], 2);
    EXPECT_NEAR(c.loo.squared_error[i], own, 1e-12) << i;
    sum += own, n += images[i].features.size();
  }
  EXPECT_NEAR(c.loo.mean_squared_error(), sum / n, 1e-12);
  // The Dice rule keeps its own criterion: the best mean held-out Dice, ties to the stronger penalty.
  RankerOptions by_dice{0.0};
  by_dice.penalty_rule = PenaltyRule::dice;
  const PenaltyChoice d = choose_penalty(images, by_dice);
  const double top = *std::max_element(d.by_penalty.begin(), d.by_penalty.end());
  size_t last_top = 0;
  for (size_t p = 0; p < d.by_penalty.size(); ++p)
    if (d.by_penalty[p] >= top - 1e-12) last_top = p;
  EXPECT_EQ(d.l2, ranker_penalties()[last_top]);
  // A fixed penalty is used as given.
  EXPECT_EQ(choose_penalty(images, fixed).l2, c.l2);
  // automatic: the error where every support holds the object; the Dice, which judges the "no object"
  // threshold, once a support without the object makes empty answers possible (unless they are off).
  RankerOptions automatic{0.0};
  EXPECT_EQ(automatic.penalty_rule, PenaltyRule::automatic);
  EXPECT_EQ(choose_penalty(images, automatic).rule, PenaltyRule::error);
  EXPECT_EQ(choose_penalty(images, automatic).l2, c.l2);
  images.push_back(image_with(0, true, rng));
  EXPECT_EQ(choose_penalty(images, automatic).rule, PenaltyRule::dice);
  automatic.allow_empty = false;
  EXPECT_EQ(choose_penalty(images, automatic).rule, PenaltyRule::error);
}

namespace {

// An image of n candidates: feature 0 carries the IoU (plus noise), the others are noise.
RankedImage one_image(int n, int noise_features, double blur, cv::RNG& rng) {
  RankedImage im;
  for (int c = 0; c < n; ++c) {
    const double q = rng.uniform(0.0, 1.0);
    std::vector<double> f = {q + blur * rng.gaussian(1.0)};
    for (int k = 0; k < noise_features; ++k) f.push_back(rng.gaussian(1.0));
    im.features.push_back(f);
    im.iou.push_back(q);
    im.dice.push_back(2 * q / (1 + q));
  }
  return im;
}

double leave_one_candidate_out_error(const RankedImage& im, double l2) {
  const std::vector<double> e = leave_one_candidate_out_errors(im, l2);
  return e.empty() ? 0.0 : std::accumulate(e.begin(), e.end(), 0.0) / static_cast<double>(e.size());
}

}  // namespace

TEST(Ranker, LeaveOneCandidateOutErrorIsTheRefitWithoutEachCandidate) {
  cv::RNG rng(11);
  const RankedImage im = one_image(14, 3, 0.1, rng);
  const int n = 14, d = 4;
  // The refit by hand: features standardised once on all candidates, the ridge solved without candidate i
  // (the penalty per candidate times n, as for the whole image), its prediction for i.
  std::vector<double> mean(d, 0), sd(d, 0);
  for (const auto& f : im.features)
    for (int j = 0; j < d; ++j) mean[j] += f[j] / n;
  for (const auto& f : im.features)
    for (int j = 0; j < d; ++j) sd[j] += (f[j] - mean[j]) * (f[j] - mean[j]) / n;
  auto row = [&](int i) {
    cv::Mat z(1, d + 1, CV_64F);
    for (int j = 0; j < d; ++j) z.at<double>(j) = (im.features[i][j] - mean[j]) / std::sqrt(sd[j]);
    z.at<double>(d) = 1;
    return z;
  };
  for (double l2 : {0.01, 1.0}) {
    double expected = 0;
    for (int i = 0; i < n; ++i) {
      cv::Mat a = cv::Mat::zeros(d + 1, d + 1, CV_64F), b = cv::Mat::zeros(d + 1, 1, CV_64F);
      for (int k = 0; k < n; ++k) {
        if (k == i) continue;
        a += row(k).t() * row(k);
        b += row(k).t() * im.iou[k];
      }
      for (int j = 0; j < d; ++j) a.at<double>(j, j) += l2 * n;
      a.at<double>(d, d) += 1e-9;
      cv::Mat w;
      cv::solve(a, b, w, cv::DECOMP_CHOLESKY);
      expected += std::pow(cv::Mat(row(i) * w).at<double>(0) - im.iou[i], 2) / n;
    }
    EXPECT_NEAR(leave_one_candidate_out_error(im, l2), expected, 1e-9 * expected) << l2;
  }
  // A penalty so strong that every weight vanishes: each candidate is predicted by the others' mean.
  double m = 0, var = 0;
  for (double y : im.iou) m += y / n;
  for (double y : im.iou) var += (y - m) * (y - m) / n;
  EXPECT_NEAR(leave_one_candidate_out_error(im, 1e9), var * n * n / ((n - 1.0) * (n - 1)), 1e-6 * var);
}

TEST(Ranker, LeaveOneCandidateOutErrorPrefersAWeakPenaltyForACleanSignalAndAStrongOneForNoise) {
  cv::RNG rng(5);
  // A clean signal in one feature: the weakest penalty predicts best.
  const RankedImage clean = one_image(30, 1, 0.01, rng);
  EXPECT_LT(leave_one_candidate_out_error(clean, 0.01), 0.2 * leave_one_candidate_out_error(clean, 10));
  // Candidates barely more than their features, which say nothing of the IoU (the signal drowned in noise): the
  // weakest penalty fits the noise, the strongest predicts the mean.
  cv::RNG other(3);
  const RankedImage noisy = one_image(24, 20, 5.0, other);
  EXPECT_GT(leave_one_candidate_out_error(noisy, 0.01), 1.5 * leave_one_candidate_out_error(noisy, 10));
  // Nothing to leave out.
  EXPECT_TRUE(leave_one_candidate_out_errors(one_image(1, 1, 0, rng), 1).empty());
}

TEST(Ranker, OneStandardErrorPenaltyIsTheStrongestWithinOneStandardErrorOfTheLeast) {
  ASSERT_EQ(ranker_penalties().size(), 6u);  // 0.01 0.1 0.3 1 3 10
  // Per penalty, four candidates' squared errors: mean m, standard deviation `spread`.
  auto flat = [](double m, double spread) {
    return std::vector<double>{m - spread, m - spread, m + spread, m + spread};
  };
  // The least at 0.1: mean 0.02, sd 0.01, standard error 0.01 / sqrt(4): the limit is 0.025.
  std::vector<std::vector<double>> e = {flat(0.03, 0), flat(0.02, 0.01), flat(0.024, 0), flat(0.026, 0),
                                        flat(0.024, 0), flat(0.05, 0)};
  EXPECT_EQ(one_standard_error_penalty(e), 3.0);  // 3 is within (0.024), 10 is not; 1 (0.026) in between is not
  // A flat curve: every penalty within the least's standard error, the strongest is taken.
  e = {flat(0.0677, 0.05), flat(0.0677, 0.05), flat(0.0679, 0.05), flat(0.0681, 0.05), flat(0.0686, 0.05),
       flat(0.0699, 0.05)};
  EXPECT_EQ(one_standard_error_penalty(e), 10.0);
  // A clear minimum at the weakest penalty: nothing else within one standard error.
  e = {flat(0.01, 0.001), flat(0.02, 0), flat(0.03, 0), flat(0.04, 0), flat(0.05, 0), flat(0.06, 0)};
  EXPECT_EQ(one_standard_error_penalty(e), 0.01);
}

// Exact binomial (Clopper-Pearson) 95% intervals, against the textbook values: 0 of 10 -> [0, 0.3085], 1 of 10 ->
// [0.0025, 0.4450], 4 of 10 -> [0.1216, 0.7376], 10 of 10 -> [0.6915, 1].
TEST(Ranker, ShareIntervalIsTheExactBinomialInterval) {
  const std::vector<std::tuple<size_t, size_t, double, double>> known = {
      {0, 10, 0.0, 0.3085}, {1, 10, 0.0025, 0.4450}, {4, 10, 0.1216, 0.7376}, {10, 10, 0.6915, 1.0}};
  for (const auto& [k, n, lo, hi] : known) {
    const auto [l, h] = share_interval(k, n);
    EXPECT_NEAR(l, lo, 1e-4) << k << " of " << n;
    EXPECT_NEAR(h, hi, 1e-4) << k << " of " << n;
  }
  EXPECT_THROW(share_interval(3, 2), std::invalid_argument);
  const auto [l, h] = share_interval(50, 100, 0.99);  // wider than at 95%
  EXPECT_LT(l, share_interval(50, 100).first);
  EXPECT_GT(h, share_interval(50, 100).second);
}

TEST(Ranker, FewerInSupportsProbabilityIsFishersExactTest) {
  // Fisher's tea-tasting table (3 of 4 cups right): one-sided 17/70.
  EXPECT_NEAR(fewer_in_supports_probability(1, 4, 3, 4), 17.0 / 70.0, 1e-12);
  // One normal support of 5 against 30 of 37 queries answered empty: implausible; against 169 of 614 (one of 10,
  // the whole BUSI folder's seed 1): plausible. Values from the hypergeometric sums in exact integers.
  EXPECT_NEAR(fewer_in_supports_probability(1, 5, 30, 37), 0.0125689, 1e-6);
  EXPECT_NEAR(fewer_in_supports_probability(1, 10, 169, 614), 0.1949437, 1e-6);
  EXPECT_NEAR(fewer_in_supports_probability(2, 5, 10, 37), 0.8691123, 1e-6);
  EXPECT_DOUBLE_EQ(fewer_in_supports_probability(0, 5, 0, 10), 1.0);  // nothing without the object anywhere
  EXPECT_THROW(fewer_in_supports_probability(6, 5, 0, 10), std::invalid_argument);
}
