#include "propagate/register.h"

#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "propagate/frame.h"

namespace sammpa {

Method parse_method(const std::string& name) {
  if (name == "identity") return Method::identity;
  if (name == "affine") return Method::affine;
  if (name == "demons") return Method::demons;
  if (name == "bspline") return Method::bspline;
  if (name == "bspline-demons") return Method::bspline_demons;
  throw InputError("--method", "unknown registration method '" + name +
                                   "' (identity|affine|demons|bspline|bspline-demons)");
}

std::string method_name(Method m) {
  switch (m) {
    case Method::identity: return "identity";
    case Method::affine: return "affine";
    case Method::demons: return "demons";
    case Method::bspline: return "bspline";
    case Method::bspline_demons: return "bspline-demons";
  }
  return "?";
}

cv::Matx23d affine_stage(const cv::Mat& fixed, const cv::Mat& moving, const RegistrationOptions& opt) {
  if (opt.method == Method::identity) return cv::Matx23d(1, 0, 0, 0, 1, 0);
  return register_affine(fixed, moving, opt.affine);
}

namespace {

// Demons on the B-spline result: the support is warped by the B-spline displacement b, demons finds e for
// that image, and the total displacement is u -> p + b(p) with p = u + e(u) (b interpolated at p).
cv::Mat compose_after_bspline(const cv::Mat& fixed, const cv::Mat& moved, const cv::Mat& b,
                              const DemonsOptions& o) {
  cv::Mat grid(b.size(), CV_32FC2);
  for (int y = 0; y < b.rows; ++y)
    for (int x = 0; x < b.cols; ++x)
      grid.at<cv::Vec2f>(y, x) = cv::Vec2f(static_cast<float>(x), static_cast<float>(y));
  const cv::Mat warped = sample(moved, grid + b, false);
  const cv::Mat p = grid + register_demons(fixed, warped, o);
  cv::Mat b_at_p;
  cv::remap(b, b_at_p, p, cv::noArray(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return p + b_at_p - grid;
}

}  // namespace

cv::Mat deformable_map(const cv::Mat& fixed, const cv::Mat& moving, const cv::Matx23d& a,
                       const RegistrationOptions& opt) {
  cv::Mat map = affine_map(a, fixed.cols);
  if (opt.method == Method::identity || opt.method == Method::affine) return map;
  const cv::Mat moved = sample(moving, map, false);
  cv::Mat d;
  if (opt.method == Method::demons) {
    d = register_demons(fixed, moved, opt.demons);
  } else if (opt.method == Method::bspline) {
    d = register_bspline(fixed, moved, opt.bspline);
  } else {
    d = compose_after_bspline(fixed, moved, register_bspline(fixed, moved, opt.bspline), opt.demons);
  }
  for (int y = 0; y < map.rows; ++y) {
    auto* m = map.ptr<cv::Vec2f>(y);
    const auto* dv = d.ptr<cv::Vec2f>(y);
    for (int x = 0; x < map.cols; ++x) {
      double u = x + dv[x][0], v = y + dv[x][1];
      m[x] = cv::Vec2f(static_cast<float>(a(0, 0) * u + a(0, 1) * v + a(0, 2)),
                       static_cast<float>(a(1, 0) * u + a(1, 1) * v + a(1, 2)));
    }
  }
  return map;
}

}  // namespace sammpa
