#pragma once
// The working frame: every image is resized (anisotropically) to size x size pixels, so that a support and
// a query of different sizes share one coordinate system. A registration result is a dense map over the
// query's working grid giving, for each pixel, the matching point in the support's working grid.
#include <opencv2/core.hpp>

namespace sammpa {

// Grey 8-bit (or RGB) image -> CV_32F working image of size x size with values in [0, 1].
cv::Mat to_working(const cv::Mat& image, int size);

// Working-grid coordinate (pixel centres at integers) of full-resolution pixel coordinate x, and back.
inline double full_to_working(double x, int full, int size) { return (x + 0.5) * size / full - 0.5; }
inline double working_to_full(double u, int full, int size) { return (u + 0.5) * full / size - 0.5; }

// A map (CV_32FC2, size x size) of an affine point transform v = A u (u: query pixel, v: support pixel).
cv::Mat affine_map(const cv::Matx23d& a, int size);

// Samples `image` (CV_32F, any size) at the points of `map` (CV_32FC2, in image pixel coordinates).
// Outside the image: replicate the border (intensities) or 0 (masks).
cv::Mat sample(const cv::Mat& image, const cv::Mat& map, bool zero_outside);

// Warps a full-resolution support mask (CV_32F, 0..1) into the query's full-resolution grid through a
// working-grid map: the map is interpolated linearly to query resolution and rescaled to support pixels.
cv::Mat warp_to_full(const cv::Mat& support_mask, const cv::Mat& map, cv::Size query_size);

}  // namespace sammpa
