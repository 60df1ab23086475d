#pragma once
// Pictures a person can check at a glance: the image with a predicted mask tinted and outlined, and
// optionally the ground truth outlined in another colour.
#include <opencv2/core.hpp>

namespace sammpa {

// image: 8-bit grey or RGB; masks: CV_8UC1 0/255 (empty Mat to skip). Returns RGB.
// Prediction: translucent orange fill + outline; ground truth: green outline.
cv::Mat draw_overlay(const cv::Mat& image, const cv::Mat& prediction, const cv::Mat& ground_truth = {});

}  // namespace sammpa
