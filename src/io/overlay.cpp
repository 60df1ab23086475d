#include "io/overlay.h"

#include <opencv2/imgproc.hpp>
#include <vector>

#include "io/image_io.h"

namespace sammpa {

cv::Mat draw_overlay(const cv::Mat& image, const cv::Mat& prediction, const cv::Mat& ground_truth) {
  cv::Mat out = to_rgb(image).clone();
  const int thickness = std::max(1, std::max(out.cols, out.rows) / 300);
  if (!prediction.empty()) {
    cv::Mat tint(out.size(), CV_8UC3, cv::Scalar(255, 140, 0));
    cv::Mat blended;
    cv::addWeighted(out, 0.65, tint, 0.35, 0, blended);
    blended.copyTo(out, prediction);
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(prediction.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
    cv::drawContours(out, contours, -1, cv::Scalar(255, 140, 0), thickness);
  }
  if (!ground_truth.empty()) {
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(ground_truth.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
    cv::drawContours(out, contours, -1, cv::Scalar(0, 220, 0), thickness);
  }
  return out;
}

cv::Mat draw_segmentation_overlay(const cv::Mat& image, const cv::Mat& prediction, const cv::Mat& ground_truth,
                                  const cv::Mat& coarse, const OverlayPrompts& prompts, const cv::Mat& declined) {
  cv::Mat out = draw_overlay(image, prediction, ground_truth);
  const int thickness = std::max(1, std::max(out.cols, out.rows) / 300);
  auto outline = [&](const cv::Mat& mask, const cv::Scalar& colour) {
    if (mask.empty()) return;
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(mask.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
    cv::drawContours(out, contours, -1, colour, thickness, cv::LINE_8);
  };
  outline(coarse, cv::Scalar(0, 200, 255));
  outline(declined, cv::Scalar(255, 0, 255));
  for (const auto& b : prompts.boxes)
    cv::rectangle(out, cv::Point(static_cast<int>(b[0]), static_cast<int>(b[1])),
                  cv::Point(static_cast<int>(b[2]) - 1, static_cast<int>(b[3]) - 1),
                  cv::Scalar(255, 230, 0), thickness);
  const int radius = std::max(3, std::max(out.cols, out.rows) / 120);
  for (size_t i = 0; i < prompts.points.size(); ++i) {
    const cv::Point c(static_cast<int>(prompts.points[i][0]), static_cast<int>(prompts.points[i][1]));
    const cv::Scalar colour = prompts.labels[i] ? cv::Scalar(40, 220, 40) : cv::Scalar(230, 30, 30);
    cv::circle(out, c, radius, colour, cv::FILLED);
    cv::circle(out, c, radius, cv::Scalar(255, 255, 255), 1);
  }
  return out;
}

}  // namespace sammpa
