#pragma once
// Stage 2 of a pair registration: a dense diffeomorphic deformation found by ITK's diffeomorphic demons
// (after histogram matching the moving image to the fixed one), in a multi-resolution pyramid.
#include <opencv2/core.hpp>
#include <vector>

namespace sammpa {

struct DemonsOptions {
  std::vector<int> iterations = {40, 20, 10};  // coarsest level first; one entry per level
  double field_sigma = 1.5;                    // Gaussian smoothing of the field each iteration (pixels)
  double max_step = 2.0;                       // largest update per iteration (pixels)
};

// fixed, moving: CV_32F, same size, moving already resampled into the fixed grid (affine stage).
// Returns the displacement d (CV_32FC2): moving(u + d(u)) matches fixed(u).
cv::Mat register_demons(const cv::Mat& fixed, const cv::Mat& moving, const DemonsOptions& opt);

}  // namespace sammpa
