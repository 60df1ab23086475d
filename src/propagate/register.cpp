#include "propagate/register.h"

#include "common/error.h"
#include "propagate/frame.h"

namespace sammpa {

Method parse_method(const std::string& name) {
  if (name == "identity") return Method::identity;
  if (name == "affine") return Method::affine;
  if (name == "demons") return Method::demons;
  throw InputError("--method", "unknown registration method '" + name + "' (identity|affine|demons)");
}

std::string method_name(Method m) {
  switch (m) {
    case Method::identity: return "identity";
    case Method::affine: return "affine";
    case Method::demons: return "demons";
  }
  return "?";
}

cv::Matx23d affine_stage(const cv::Mat& fixed, const cv::Mat& moving, const RegistrationOptions& opt) {
  if (opt.method == Method::identity) return cv::Matx23d(1, 0, 0, 0, 1, 0);
  return register_affine(fixed, moving, opt.affine);
}

cv::Mat deformable_map(const cv::Mat& fixed, const cv::Mat& moving, const cv::Matx23d& a,
                       const RegistrationOptions& opt) {
  cv::Mat map = affine_map(a, fixed.cols);
  if (opt.method != Method::demons) return map;
  cv::Mat d = register_demons(fixed, sample(moving, map, false), opt.demons);
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
