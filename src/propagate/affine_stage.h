#pragma once
// Stage 1 of a pair registration: a global affine transform found by ITK's v4 registration framework
// (normalised correlation metric, regular-step gradient descent, multi-resolution, full deterministic
// sampling), started from the identity (both images already share the working frame).
#include <opencv2/core.hpp>

namespace sammpa {

struct AffineOptions {
  int max_size = 64;     // finest level of the affine pyramid, pixels per side
  int levels = 2;        // each coarser level halves the size
  int iterations = 100;  // per level
};

// fixed, moving: CV_32F working images of the same size. Returns A (query pixel u -> support pixel A u).
cv::Matx23d register_affine(const cv::Mat& fixed, const cv::Mat& moving, const AffineOptions& opt);

}  // namespace sammpa
