#pragma once
// Alternative stage 2 of a pair registration: a cubic B-spline free-form deformation on a coarse control
// mesh, optimised by ITK's v4 registration framework (regular-step gradient descent) in a pyramid whose
// mesh is refined (doubled) from level to level.
#include <opencv2/core.hpp>
#include <string>

namespace sammpa {

struct BSplineOptions {
  int mesh = 8;              // control mesh cells per side at the finest level (halved per coarser level)
  int levels = 2;            // pyramid levels, each half the size of the next
  int max_size = 64;         // finest level, pixels per side (the working frame shrunk by an integer factor)
  int iterations = 20;       // gradient-descent iterations per level at most
  double step = 2.0;         // first step, largest control-point move (finest-level pixels; scaled per level)
  std::string metric = "correlation";  // correlation | mattes (mutual information, 32 bins, all pixels)
};

// fixed, moving: CV_32F, same size, moving already resampled into the fixed grid (affine stage).
// Returns the displacement d (CV_32FC2): moving(u + d(u)) matches fixed(u). Deterministic: every pixel
// is used by the metric (no random sampling).
cv::Mat register_bspline(const cv::Mat& fixed, const cv::Mat& moving, const BSplineOptions& opt);

}  // namespace sammpa
