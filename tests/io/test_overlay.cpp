// Overlays a person reads at a glance: each element in its own colour, and a mask that a "no object" answer
// declined outlined (magenta) without being filled as an answer would be.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "io/overlay.h"

using namespace sammpa;

namespace {

int pixels_of(const cv::Mat& rgb, const cv::Vec3b& colour) {
  int n = 0;
  for (int y = 0; y < rgb.rows; ++y)
    for (int x = 0; x < rgb.cols; ++x) n += rgb.at<cv::Vec3b>(y, x) == colour;
  return n;
}

}  // namespace

TEST(Overlay, DeclinedMaskIsOutlinedInMagentaOnly) {
  const cv::Mat image(120, 160, CV_8UC1, cv::Scalar(90));
  cv::Mat declined = cv::Mat::zeros(image.size(), CV_8UC1);
  cv::circle(declined, {80, 60}, 25, cv::Scalar(255), cv::FILLED);
  const cv::Mat empty = cv::Mat::zeros(image.size(), CV_8UC1);
  const cv::Mat without = draw_segmentation_overlay(image, empty, {}, {}, {});
  const cv::Mat with = draw_segmentation_overlay(image, empty, {}, {}, {}, declined);
  const cv::Vec3b magenta(255, 0, 255), grey(90, 90, 90);
  EXPECT_EQ(pixels_of(without, magenta), 0);
  EXPECT_GT(pixels_of(with, magenta), 100);  // the circle's outline, about 2 pi 25 pixels
  // Only the outline: the inside keeps the image's grey (an answer would be tinted orange).
  EXPECT_EQ(with.at<cv::Vec3b>(60, 80), grey);
  EXPECT_EQ(with.at<cv::Vec3b>(5, 5), grey);
  // Every magenta pixel lies on the declined mask's border.
  cv::Mat inner;
  cv::erode(declined, inner, cv::Mat(), {-1, -1}, 2);
  for (int y = 0; y < with.rows; ++y)
    for (int x = 0; x < with.cols; ++x)
      if (with.at<cv::Vec3b>(y, x) == magenta) {
        EXPECT_EQ(inner.at<uint8_t>(y, x), 0) << x << "," << y;
      }
}
