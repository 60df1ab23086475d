// Step 3, known answers on synthetic masks: a disc, two blobs, an empty mask, specks under the size floor.
#include "prompt/prompt.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

using namespace sammpa;

namespace {
cv::Mat blank(int w = 200, int h = 100) { return cv::Mat::zeros(h, w, CV_8UC1); }
}  // namespace

TEST(Prompt, DiscGetsCentrePointExpandedBoxAndCornerNegatives) {
  cv::Mat m = blank();
  cv::circle(m, {60, 50}, 20, 255, cv::FILLED);  // bbox x 40..80, y 30..70 (pixel edges)
  PromptOptions o;
  auto p = make_prompts(m, {}, o);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].bbox, cv::Rect(40, 30, 41, 41));
  ASSERT_EQ(p[0].labels.size(), 5u);
  EXPECT_EQ(p[0].labels[0], 1);
  EXPECT_FLOAT_EQ(p[0].points[0][0], 60.5f);  // the disc's centre pixel
  EXPECT_FLOAT_EQ(p[0].points[0][1], 50.5f);
  const float margin = 0.1f * 41;
  EXPECT_FLOAT_EQ(p[0].box[0], 40 - margin);
  EXPECT_FLOAT_EQ(p[0].box[1], 30 - margin);
  EXPECT_FLOAT_EQ(p[0].box[2], 81 + margin);
  EXPECT_FLOAT_EQ(p[0].box[3], 71 + margin);
  for (int i = 1; i < 5; ++i) {
    EXPECT_EQ(p[0].labels[i], 0);
    const bool left = p[0].points[i][0] < 60, top = p[0].points[i][1] < 50;
    EXPECT_NEAR(p[0].points[i][0], left ? 35.5f : 84.5f, 1.0f);
    EXPECT_NEAR(p[0].points[i][1], top ? 25.5f : 74.5f, 1.0f);
  }
  EXPECT_EQ(cv::countNonZero(p[0].object), cv::countNonZero(m));
  EXPECT_EQ(cv::countNonZero(p[0].mask_prompt), cv::countNonZero(m));  // no soft map: the coarse mask itself
}

TEST(Prompt, TwoBlobsGiveTwoPromptSetsLeftFirst) {
  cv::Mat m = blank();
  cv::rectangle(m, cv::Rect(120, 20, 50, 60), 255, cv::FILLED);
  cv::rectangle(m, cv::Rect(20, 20, 40, 60), 255, cv::FILLED);
  auto p = make_prompts(m, {}, {});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].bbox.x, 20);
  EXPECT_EQ(p[1].bbox.x, 120);
  // Each object's mask prompt holds only that object.
  EXPECT_EQ(cv::countNonZero(p[0].mask_prompt), 40 * 60);
  EXPECT_EQ(cv::countNonZero(p[1].mask_prompt), 50 * 60);
  EXPECT_EQ(cv::countNonZero(p[0].object & p[1].object), 0);
}

TEST(Prompt, EmptyMaskAndSpecksGiveNoPrompt) {
  EXPECT_TRUE(make_prompts(blank(), {}, {}).empty());
  cv::Mat m = blank();
  m.at<uchar>(10, 10) = 255;  // 1 pixel < 0.1% of 20000
  EXPECT_TRUE(make_prompts(m, {}, {}).empty());
  cv::rectangle(m, cv::Rect(50, 20, 60, 60), 255, cv::FILLED);
  cv::rectangle(m, cv::Rect(150, 20, 5, 5), 255, cv::FILLED);  // 25 px: above the absolute floor, < 10% of 3600
  auto p = make_prompts(m, {}, {});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].bbox, cv::Rect(50, 20, 60, 60));
}

TEST(Prompt, ElementsSwitchOffAndNegativesInsideTheMaskAreDropped) {
  cv::Mat m = blank();
  cv::rectangle(m, cv::Rect(0, 0, 100, 100), 255, cv::FILLED);  // touches the image's left, top and bottom
  PromptOptions o;
  auto p = make_prompts(m, {}, o);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_FLOAT_EQ(p[0].box[0], 0.f);  // clipped to the image
  EXPECT_FLOAT_EQ(p[0].box[3], 100.f);
  // Corners (0,0) and (0,99) lie inside the coarse mask: only the two on the right are negatives.
  int negatives = 0;
  for (size_t i = 0; i < p[0].labels.size(); ++i) negatives += p[0].labels[i] == 0;
  EXPECT_EQ(negatives, 2);
  o.positive = o.negative = o.mask = false;
  p = make_prompts(m, {}, o);
  EXPECT_TRUE(p[0].points.empty());
  EXPECT_TRUE(p[0].mask_prompt.empty());
}

TEST(Prompt, SoftMapNearTheObjectIsTheMaskPrompt) {
  cv::Mat m = blank(), soft(100, 200, CV_32FC1, cv::Scalar(0.3f));
  cv::rectangle(m, cv::Rect(80, 30, 40, 40), 255, cv::FILLED);
  PromptOptions o;
  o.mask_region = 0.25;  // 10 px around the object
  auto p = make_prompts(m, soft, o);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NEAR(p[0].mask_prompt.at<uchar>(50, 100), 76.5, 0.6);  // 0.3 * 255, rounded
  EXPECT_NEAR(p[0].mask_prompt.at<uchar>(50, 75), 76.5, 0.6);  // within 10 px
  EXPECT_EQ(p[0].mask_prompt.at<uchar>(50, 60), 0);    // beyond
  auto j = prompts_json(p, o);
  EXPECT_EQ(j["objects"].size(), 1u);
  EXPECT_EQ(j["objects"][0]["points"][0]["label"], 1);
}

// The region is every pixel within r (Euclidean) of the object, r = mask_region x the object's longer side:
// r pixels straight out, about 7 px along each axis on the diagonal from a corner.
TEST(Prompt, MaskPromptRegionIsWithinRPixelsOfTheObject) {
  cv::Mat m = blank(), soft(100, 200, CV_32FC1, cv::Scalar(0.5f));
  cv::rectangle(m, cv::Rect(90, 40, 20, 20), 255, cv::FILLED);  // pixels 90..109, 40..59
  PromptOptions o;
  o.mask_region = 0.5;  // r = 10 px
  auto p = make_prompts(m, soft, o);
  ASSERT_EQ(p.size(), 1u);
  const cv::Mat& mp = p[0].mask_prompt;
  EXPECT_GT(mp.at<uchar>(50, 119), 0);  // 10 px right of the object
  EXPECT_EQ(mp.at<uchar>(50, 120), 0);  // 11 px
  EXPECT_GT(mp.at<uchar>(66, 116), 0);  // (7, 7) from the corner (109, 59): 9.9 px
  EXPECT_EQ(mp.at<uchar>(66, 117), 0);  // (8, 7): 10.6 px
  EXPECT_EQ(mp.at<uchar>(69, 119), 0);  // (10, 10): 14.1 px, inside a square of side 2r but not the disc
}
