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

}  // namespace sammpa
