#pragma once
// Registration of one support image to one query image in the working frame: an affine stage, then
// (optionally) a deformable stage. The result is a dense map query pixel -> support pixel.
#include <opencv2/core.hpp>
#include <string>

#include "propagate/affine_stage.h"
#include "propagate/bspline_stage.h"
#include "propagate/deformable_stage.h"

namespace sammpa {

// bspline_demons: the B-spline stage, then demons on its result (the demons field refines the B-spline map).
enum class Method { identity, affine, demons, bspline, bspline_demons };
Method parse_method(const std::string& name);  // InputError on an unknown name
std::string method_name(Method m);

struct RegistrationOptions {
  Method method = Method::demons;
  int size = 128;  // working frame, pixels per side
  AffineOptions affine;
  DemonsOptions demons;
  BSplineOptions bspline;
};

// Affine stage (identity for Method::identity).
cv::Matx23d affine_stage(const cv::Mat& fixed, const cv::Mat& moving, const RegistrationOptions& opt);

// Full map (CV_32FC2, working size) for a pair given its affine stage: u -> A (u + d(u)).
cv::Mat deformable_map(const cv::Mat& fixed, const cv::Mat& moving, const cv::Matx23d& affine,
                       const RegistrationOptions& opt);

}  // namespace sammpa
