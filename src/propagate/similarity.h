#pragma once
// Similarity of a warped support image and the query (working grid), used to rank and weight supports.
#include <opencv2/core.hpp>

namespace sammpa {

// Normalised cross-correlation of two same-size CV_32F images, in [-1, 1] (0 if either is constant).
double normalized_cross_correlation(const cv::Mat& a, const cv::Mat& b);

// Dice of two masks (any type; non-zero = foreground). Both empty counts as 1.
double dice(const cv::Mat& a, const cv::Mat& b);

}  // namespace sammpa
