#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "select/features.h"
#include "test_support.h"

using namespace sammpa;

namespace {
cv::Mat gradient_image(int w, int h) {
  cv::Mat g(h, w, CV_8UC1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) g.at<uint8_t>(y, x) = static_cast<uint8_t>((x * 200) / w + (y % 7) * 5);
  return g;
}
}  // namespace

TEST(Features, BlocksHaveUnitLength) {
  cv::Mat img = gradient_image(100, 80);
  cv::Mat t = image_features(img, FeatureKind::Thumbnail);
  ASSERT_EQ(t.cols, 1024);
  EXPECT_NEAR(cv::norm(t), 1.0, 1e-5);
  cv::Mat th = image_features(img, FeatureKind::ThumbnailHist);
  ASSERT_EQ(th.cols, 1024 + 32);
  EXPECT_NEAR(cv::norm(th.colRange(0, 1024)), 1.0, 1e-5);
  EXPECT_NEAR(cv::norm(th.colRange(1024, th.cols)), 1.0, 1e-5);
}

TEST(Features, ThumbnailIgnoresBrightnessContrastAndSize) {
  cv::Mat img = gradient_image(128, 128), brighter, larger;
  img.convertTo(brighter, CV_8U, 0.5, 60);
  cv::resize(img, larger, {256, 256}, 0, 0, cv::INTER_NEAREST);
  cv::Mat a = image_features(img, FeatureKind::Thumbnail);
  EXPECT_LT(cv::norm(a, image_features(brighter, FeatureKind::Thumbnail)), 0.02);  // rounding only
  EXPECT_LT(cv::norm(a, image_features(larger, FeatureKind::Thumbnail)), 1e-5);
  // ... but the histogram block sees the intensity change.
  cv::Mat ha = image_features(img, FeatureKind::ThumbnailHist),
          hb = image_features(brighter, FeatureKind::ThumbnailHist);
  EXPECT_GT(cv::norm(ha.colRange(1024, ha.cols), hb.colRange(1024, hb.cols)), 0.5);
  // A flipped image is far away.
  cv::Mat flipped;
  cv::flip(img, flipped, 1);
  EXPECT_GT(cv::norm(a, image_features(flipped, FeatureKind::Thumbnail)), 1.0);
}

TEST(Features, FlatImageHasZeroThumbnailAndRgbIsAccepted) {
  cv::Mat flat(40, 40, CV_8UC1, cv::Scalar(77));
  cv::Mat f = image_features(flat, FeatureKind::Thumbnail);
  EXPECT_EQ(cv::norm(f), 0);
  cv::Mat rgb;
  cv::cvtColor(gradient_image(50, 50), rgb, cv::COLOR_GRAY2RGB);
  EXPECT_LT(cv::norm(image_features(rgb, FeatureKind::ThumbnailHist),
                     image_features(gradient_image(50, 50), FeatureKind::ThumbnailHist)),
            1e-6);
}

TEST(Features, NamesRoundTripAndUnknownIsAnError) {
  for (const auto& n : feature_kind_names()) EXPECT_EQ(feature_kind_name(parse_feature_kind(n)), n);
  try {
    parse_feature_kind("sam-vit-h");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--features"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("thumbnail-hist"), std::string::npos);
  }
}
