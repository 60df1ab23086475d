// Propagation in SAM's feature space: the mapping between image and embedding grid (known answers), and the
// classifier on synthetic embeddings whose objects sit at different places in every image (where registration
// cannot follow them).
#include "propagate/feature_propagation.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <random>

#include "common/error.h"
#include "eval/metrics.h"

using namespace sammpa;

namespace {

// An embedding of a w x h image (long side to 1024, 64 x 64 grid) whose channel 0 marks the cells an object
// covers and whose other channels are noise.
// `signal` scales channel 0 (0: noise only); `target` is the model's input side (LiteMedSAM: 256).
sam::ImageEmbedding synthetic(int w, int h, cv::Rect object, uint32_t seed, int channels = 8, float signal = 2.f,
                              int target = 1024) {
  sam::ImageEmbedding e;
  e.model_type = target == 1024 ? "vit_t" : "lite_medsam";
  e.frame = sam::make_frame(h, w, target);
  e.features = sam::Tensor({1, channels, 64, 64});
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.f, 1.f);
  cv::Mat mask = cv::Mat::zeros(h, w, CV_8UC1);
  cv::rectangle(mask, object, 255, cv::FILLED);
  const cv::Mat grid = mask_on_embedding_grid(mask, e);
  float* f = e.features.data();
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x)
        f[(c * 64 + y) * 64 + x] = (c == 0 ? signal * std::max(0.f, grid.at<float>(y, x)) : 0.f) + 0.3f * noise(rng);
  return e;
}

cv::Mat rect_mask(int w, int h, cv::Rect r) {
  cv::Mat m = cv::Mat::zeros(h, w, CV_8UC1);
  cv::rectangle(m, r, 255, cv::FILLED);
  return m;
}

// Trained on the first three images (their objects at `places`), the Dice of the fourth image's soft map >= 0.5
// against its object.
double fourth_image_dice(const std::vector<sam::ImageEmbedding>& images, const std::vector<cv::Rect>& places,
                         int w, int h, const FeaturePropagationOptions& o) {
  const std::vector<const sam::ImageEmbedding*> refs = {&images[0], &images[1], &images[2]};
  const std::vector<cv::Mat> masks = {rect_mask(w, h, places[0]), rect_mask(w, h, places[1]),
                                      rect_mask(w, h, places[2])};
  return dice_score(FeatureClassifier::train(refs, masks, o).predict(images[3]) >= 0.5f, rect_mask(w, h, places[3]));
}

}  // namespace

TEST(FeatureGrid, MaskCoverageInThePaddedFrame) {
  // 200 x 100 image: input 1024 x 512, so 64 x 32 grid cells hold image and the lower 32 rows are padding.
  sam::ImageEmbedding e = synthetic(200, 100, {0, 0, 1, 1}, 1);
  const cv::Mat grid = mask_on_embedding_grid(rect_mask(200, 100, {0, 0, 100, 100}), e);  // left half
  ASSERT_EQ(grid.size(), cv::Size(64, 64));
  EXPECT_NEAR(grid.at<float>(10, 10), 1.f, 1e-5);
  EXPECT_NEAR(grid.at<float>(31, 31), 1.f, 1e-5);
  EXPECT_NEAR(grid.at<float>(10, 32), 0.f, 1e-5);
  EXPECT_NEAR(grid.at<float>(10, 63), 0.f, 1e-5);
  EXPECT_EQ(grid.at<float>(32, 10), -1.f);  // padding
  EXPECT_EQ(grid.at<float>(63, 63), -1.f);
  // And back: a grid holding the left half gives the left half of the image.
  cv::Mat g = cv::Mat::zeros(64, 64, CV_32F);
  g(cv::Rect(0, 0, 32, 32)).setTo(1.f);
  const cv::Mat back = grid_to_image(g, e);
  ASSERT_EQ(back.size(), cv::Size(200, 100));
  EXPECT_GT(back.at<float>(50, 20), 0.99f);
  EXPECT_LT(back.at<float>(50, 180), 0.01f);
  EXPECT_NEAR(cv::countNonZero(back >= 0.5f), 100 * 100, 2 * 100);  // the boundary within a pixel column or two
}

TEST(FeatureClassifier, FindsObjectsThatMoveBetweenImages) {
  const int w = 300, h = 240;
  const std::vector<cv::Rect> places = {{20, 30, 60, 50}, {200, 150, 70, 60}, {120, 20, 50, 80}, {30, 160, 90, 50}};
  std::vector<sam::ImageEmbedding> supports;
  std::vector<cv::Mat> masks;
  for (size_t i = 0; i < 3; ++i) {
    supports.push_back(synthetic(w, h, places[i], 10 + i));
    masks.push_back(rect_mask(w, h, places[i]));
  }
  std::vector<const sam::ImageEmbedding*> refs;
  for (const auto& s : supports) refs.push_back(&s);
  const FeatureClassifier fc = FeatureClassifier::train(refs, masks, {});
  const sam::ImageEmbedding query = synthetic(w, h, places[3], 99);  // the object somewhere none of the supports has it
  const cv::Mat soft = fc.predict(query);
  ASSERT_EQ(soft.size(), cv::Size(w, h));
  const double d = dice_score(soft >= 0.5f, rect_mask(w, h, places[3]));
  EXPECT_GT(d, 0.85) << d;  // a 64 x 64 grid over a 300 px image: boundaries within a cell
  // Supports without any object cannot teach anything: an error, not a silent empty answer.
  std::vector<cv::Mat> empty(3, cv::Mat::zeros(h, w, CV_8UC1));
  EXPECT_THROW(FeatureClassifier::train(refs, empty, {}), InputError);
}

// The fit is the optimum of the class-balanced, ridge-penalised logistic loss: the weights equal those of a
// plain double-precision Newton solver written here from the loss, on the same standardised cells.
TEST(FeatureClassifier, WeightsAreThePenalisedLogisticOptimum) {
  const int w = 300, h = 240;
  const std::vector<cv::Rect> places = {{20, 30, 60, 50}, {200, 150, 70, 60}, {120, 20, 50, 80}};
  std::vector<sam::ImageEmbedding> supports;
  std::vector<cv::Mat> masks;
  for (size_t i = 0; i < places.size(); ++i) {
    supports.push_back(synthetic(w, h, places[i], 30 + i, 8, 0.6f));  // a weak signal: the classes overlap
    masks.push_back(rect_mask(w, h, places[i]));
  }
  std::vector<const sam::ImageEmbedding*> refs;
  for (const auto& s : supports) refs.push_back(&s);
  FeaturePropagationOptions o;
  o.l2 = 3.0;
  o.max_negative_cells = 1 << 20;  // every cell
  o.image_relative = o.position = false;  // the channels alone
  const cv::Mat fitted = FeatureClassifier::train(refs, masks, o).weights();
  // Every cell and its coverage.
  cv::Mat x, t;
  for (size_t i = 0; i < supports.size(); ++i) {
    const cv::Size v = sam::valid_cells(supports[i]);
    const cv::Mat grid = mask_on_embedding_grid(masks[i], supports[i]);
    for (int y = 0; y < v.height; ++y)
      for (int xx = 0; xx < v.width; ++xx) {
        cv::Mat row(1, 8, CV_64F);
        for (int c = 0; c < 8; ++c) row.at<double>(c) = supports[i].features.data()[(c * 64 + y) * 64 + xx];
        x.push_back(row);
        t.push_back(static_cast<double>(grid.at<float>(y, xx)));
      }
  }
  const int n = x.rows, d = 9;
  cv::Mat z(n, d, CV_64F, cv::Scalar(1.0));
  for (int c = 0; c < 8; ++c) {
    cv::Scalar mean, sd;
    cv::meanStdDev(x.col(c), mean, sd);
    z.col(c) = (x.col(c) - mean[0]) / (sd[0] + 1e-6);
  }
  const double positive = cv::sum(t)[0], wpos = n / (2 * positive), wneg = n / (2 * (n - positive));
  cv::Mat beta = cv::Mat::zeros(d, 1, CV_64F), reg = cv::Mat::eye(d, d, CV_64F) * o.l2;
  reg.at<double>(d - 1, d - 1) = 0;
  for (int it = 0; it < 50; ++it) {
    cv::Mat grad = reg * beta, hess = reg.clone();
    for (int i = 0; i < n; ++i) {
      const double p = 1 / (1 + std::exp(-z.row(i).dot(beta.t()))), ti = t.at<double>(i);
      const double wi = ti * wpos + (1 - ti) * wneg;
      grad += wi * (p - ti) * z.row(i).t();
      hess += wi * p * (1 - p) * z.row(i).t() * z.row(i);
    }
    cv::Mat step;
    cv::solve(hess, grad, step, cv::DECOMP_CHOLESKY);
    beta -= step;
  }
  ASSERT_EQ(fitted.rows, d);
  for (int j = 0; j < d; ++j)
    EXPECT_NEAR(fitted.at<float>(j), beta.at<double>(j), 1e-4 * (1 + std::abs(beta.at<double>(j))));
}

// The marking channel shifted by an offset of its own in each image (as one scanner's images look brighter
// than another's): the object is the part that stands out of its image, which only the image-relative
// description tells at one threshold for every image.
TEST(FeatureClassifier, ImageRelativeChannelsFollowEachImagesLevel) {
  const int w = 300, h = 240;
  const std::vector<cv::Rect> places = {{20, 30, 60, 50}, {200, 150, 70, 60}, {120, 20, 50, 80}, {30, 160, 90, 50}};
  const std::vector<float> offsets = {0.f, 3.f, -2.f, 1.5f};
  std::vector<sam::ImageEmbedding> images;
  for (size_t i = 0; i < places.size(); ++i) {
    images.push_back(synthetic(w, h, places[i], 50 + i, 8, 1.f));
    for (int64_t k = 0; k < 64 * 64; ++k) images.back().features.data()[k] += offsets[i];  // channel 0
  }
  FeaturePropagationOptions alone, relative;
  relative.image_relative = true;
  const double d_alone = fourth_image_dice(images, places, w, h, alone);
  const double d_relative = fourth_image_dice(images, places, w, h, relative);
  EXPECT_LT(d_alone, 0.5) << d_alone;
  EXPECT_GT(d_relative, 0.85) << d_relative;
}

// Noise everywhere, the object always near the same place: only its position tells it, learned from the
// supports.
TEST(FeatureClassifier, PositionIsLearnedFromTheSupports) {
  const int w = 300, h = 240;
  const std::vector<cv::Rect> places = {{100, 80, 100, 80}, {110, 90, 90, 70}, {95, 75, 100, 85}, {105, 85, 95, 75}};
  std::vector<sam::ImageEmbedding> images;
  for (size_t i = 0; i < places.size(); ++i) images.push_back(synthetic(w, h, places[i], 70 + i, 8, 0.f));
  FeaturePropagationOptions without, with;
  with.position = true;
  const double d_without = fourth_image_dice(images, places, w, h, without);
  const double d_with = fourth_image_dice(images, places, w, h, with);
  EXPECT_LT(d_without, 0.5) << d_without;
  EXPECT_GT(d_with, 0.7) << d_with;
}

TEST(FeatureClassifier, StackedEmbeddingsUseTheSecondCheckpointsChannels) {
  const int w = 300, h = 240;
  const std::vector<cv::Rect> places = {{20, 30, 60, 50}, {200, 150, 70, 60}, {120, 20, 50, 80}, {30, 160, 90, 50}};
  // The first checkpoint's embedding is noise; only the second one (LiteMedSAM's frame) marks the objects.
  std::vector<sam::ImageEmbedding> own, stacked;
  std::vector<cv::Mat> masks;
  for (size_t i = 0; i < 4; ++i) {
    own.push_back(synthetic(w, h, places[i], 10 + i, 8, 0.f));
    stacked.push_back(stack_embeddings(own.back(), synthetic(w, h, places[i], 50 + i, 4, 2.f, 256)));
    masks.push_back(rect_mask(w, h, places[i]));
  }
  // Layout: the first checkpoint's frame and channels, then the second one's channels.
  const sam::ImageEmbedding extra = synthetic(w, h, places[0], 50, 4, 2.f, 256);
  ASSERT_EQ(stacked[0].features.shape(), (sam::Shape{1, 12, 64, 64}));
  EXPECT_EQ(stacked[0].frame.target, 1024);
  EXPECT_EQ(stacked[0].model_type, "vit_t");
  EXPECT_EQ(stacked[0].features.data()[7 * 4096 + 100], own[0].features.data()[7 * 4096 + 100]);
  EXPECT_EQ(stacked[0].features.data()[8 * 4096 + 100], extra.features.data()[100]);
  EXPECT_EQ(stacked[0].features.data()[11 * 4096 + 4095], extra.features.data()[3 * 4096 + 4095]);

  std::vector<const sam::ImageEmbedding*> refs_own, refs_stacked;
  for (size_t i = 0; i < 3; ++i) refs_own.push_back(&own[i]), refs_stacked.push_back(&stacked[i]);
  const std::vector<cv::Mat> train_masks(masks.begin(), masks.begin() + 3);
  const double alone =
      dice_score(FeatureClassifier::train(refs_own, train_masks, {}).predict(own[3]) >= 0.5f, masks[3]);
  const double both =
      dice_score(FeatureClassifier::train(refs_stacked, train_masks, {}).predict(stacked[3]) >= 0.5f, masks[3]);
  EXPECT_LT(alone, 0.5) << alone;
  EXPECT_GT(both, 0.85) << both;

  // Embeddings on different grids, or of different images, are refused.
  sam::ImageEmbedding coarse = extra;
  coarse.features = sam::Tensor::zeros({1, 4, 32, 32});
  EXPECT_THROW(stack_embeddings(own[0], coarse), InputError);
  EXPECT_THROW(stack_embeddings(own[0], synthetic(w + 1, h, places[0], 5, 4, 2.f, 256)), InputError);
  // A list of supports is stacked image by image; lists of different lengths are refused.
  const auto each = stack_each({own[0], own[1]}, {extra, extra});
  ASSERT_EQ(each.size(), 2u);
  EXPECT_EQ(each[1].features.data()[100], own[1].features.data()[100]);
  EXPECT_EQ(each[1].features.data()[8 * 4096 + 100], extra.features.data()[100]);
  EXPECT_THROW(stack_each(own, {extra}), InputError);
}
