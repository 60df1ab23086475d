#pragma once
// Segmentation scores of one predicted mask against its ground truth, and summaries over many images.
// Masks are CV_8UC1 of equal size; any non-zero pixel is foreground.
//
// Conventions:
//  - Dice = 2|P∩G| / (|P|+|G|), IoU = |P∩G| / |P∪G|.
//  - HD95: the boundary of a mask is its foreground pixels with a 4-neighbour in the background, pixels
//    outside the image counting as background. For every boundary pixel of P the Euclidean distance (pixels)
//    to the nearest boundary pixel of G, and vice versa; HD95 is the 95th percentile of both sets together
//    (linear interpolation between order statistics, as numpy.percentile does by default).
//  - Both masks empty: Dice 1, IoU 1, HD95 0. Exactly one empty: Dice 0, IoU 0, HD95 undefined (nullopt;
//    null in JSON, an empty CSV cell, left out of the HD95 summary and counted there as `undefined`).
#include <optional>
#include <opencv2/core.hpp>
#include <vector>

namespace sammpa {

struct MaskScores {
  double dice = 0;
  double iou = 0;
  std::optional<double> hd95;
};

// std::invalid_argument if the sizes or types differ.
MaskScores score_masks(const cv::Mat& pred, const cv::Mat& truth);
double dice_score(const cv::Mat& pred, const cv::Mat& truth);
double iou_score(const cv::Mat& pred, const cv::Mat& truth);
std::optional<double> hd95(const cv::Mat& pred, const cv::Mat& truth);
// Any percentile (0..100) of the symmetric boundary distances; 100 is the Hausdorff distance.
std::optional<double> surface_distance_percentile(const cv::Mat& pred, const cv::Mat& truth, double percentile);

// Boundary pixels (255) of a mask, as defined above.
cv::Mat mask_boundary(const cv::Mat& mask);

// mean, population standard deviation (as numpy.std), median over the defined values; n counts them and
// `undefined` the nullopt ones. With n == 0 the statistics are NaN.
struct Summary {
  size_t n = 0;
  size_t undefined = 0;
  double mean = 0, std = 0, median = 0;
};
Summary summarize(const std::vector<std::optional<double>>& values);
Summary summarize(const std::vector<double>& values);

// Whether paired differences (one per support, say) are clearly above zero: their mean exceeds one standard
// error (population sd / sqrt(n - 1)) beyond rounding. A difference on one image alone is never clear: its mean
// then equals its standard error exactly. False for fewer than two values.
bool clearly_positive(const std::vector<double>& differences);

// The p-th percentile (0..100) of values with numpy's default linear interpolation; values non-empty.
double percentile(std::vector<double> values, double p);

}  // namespace sammpa
