#pragma once
// Pictures a person can check at a glance: the image with a predicted mask tinted and outlined, and
// optionally the ground truth outlined in another colour.
#include <array>
#include <opencv2/core.hpp>
#include <vector>

namespace sammpa {

// image: 8-bit grey or RGB; masks: CV_8UC1 0/255 (empty Mat to skip). Returns RGB.
// Prediction: translucent orange fill + outline; ground truth: green outline.
cv::Mat draw_overlay(const cv::Mat& image, const cv::Mat& prediction, const cv::Mat& ground_truth = {});

// What step 3 gave SAM, drawn on an overlay: boxes (yellow), positive points (green discs) and negative points
// (red discs), in image pixels.
struct OverlayPrompts {
  std::vector<std::array<float, 4>> boxes;   // x0, y0, x1, y1
  std::vector<std::array<float, 2>> points;  // x, y
  std::vector<int> labels;                   // 1 positive, 0 negative
};

// draw_overlay plus the coarse mask's outline (cyan), the prompts, and the outline (magenta) of a mask that a
// "no object" answer declined (empty Mat: none).
cv::Mat draw_segmentation_overlay(const cv::Mat& image, const cv::Mat& prediction, const cv::Mat& ground_truth,
                                  const cv::Mat& coarse, const OverlayPrompts& prompts, const cv::Mat& declined = {});

}  // namespace sammpa
