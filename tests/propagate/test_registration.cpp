// Registration recovers a known deformation of a real chest X-ray.
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "io/image_io.h"
#include "propagate/frame.h"
#include "propagate/register.h"
#include "propagate/similarity.h"
#include "test_support.h"

using namespace sammpa;

namespace {

// A known map (query pixel -> original pixel): small rotation, scaling and shift plus a smooth
// sinusoidal deformation of up to ~12 px at 512 px.
cv::Mat known_map(cv::Size size) {
  cv::Mat map(size, CV_32FC2);
  const double cx = size.width / 2.0, cy = size.height / 2.0, angle = 0.05, scale = 1.06;
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      double u = (x - cx) / scale, v = (y - cy) / scale;
      double ax = std::cos(angle) * u - std::sin(angle) * v + cx + 9;
      double ay = std::sin(angle) * u + std::cos(angle) * v + cy - 6;
      ax += 12 * std::sin(2 * M_PI * y / size.height) * std::sin(M_PI * x / size.width);
      ay += 10 * std::sin(2 * M_PI * x / size.width) * std::sin(M_PI * y / size.height);
      map.at<cv::Vec2f>(y, x) = cv::Vec2f(static_cast<float>(ax), static_cast<float>(ay));
    }
  return map;
}

struct Case {
  cv::Mat original, mask, warped, warped_mask;  // mask: CV_32F 0/1; warped_mask: 0/255
};

Case make_case() {
  const auto root = test::data_root() / "cxr";
  Case c;
  c.original = read_image(root / "images/CHNCXR_0001_0.png");
  cv::Mat m = read_mask(root / "masks/CHNCXR_0001_0.png", c.original.size());
  m.convertTo(c.mask, CV_32F, 1.0 / 255);
  cv::Mat map = known_map(c.original.size());
  cv::remap(c.original, c.warped, map, cv::noArray(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  c.warped_mask = sample(c.mask, map, true) >= 0.5f;
  return c;
}

double propagated_dice(const Case& c, Method method) {
  RegistrationOptions opt;
  opt.method = method;
  cv::Mat fixed = to_working(c.warped, opt.size), moving = to_working(c.original, opt.size);
  cv::Mat map = deformable_map(fixed, moving, affine_stage(fixed, moving, opt), opt);
  return dice(warp_to_full(c.mask, map, c.warped.size()) >= 0.5f, c.warped_mask);
}

}  // namespace

TEST(Registration, DemonsRecoversKnownDeformationOfRealCxr) {
  Case c = make_case();
  double none = propagated_dice(c, Method::identity);
  double affine = propagated_dice(c, Method::affine);
  double demons = propagated_dice(c, Method::demons);
  RecordProperty("dice_identity", std::to_string(none));
  RecordProperty("dice_demons", std::to_string(demons));
  EXPECT_LT(none, 0.90);  // the deformation is large enough to matter
  EXPECT_GT(affine, none);
  EXPECT_GE(demons, 0.95);
  EXPECT_GT(demons, affine);
}

TEST(Registration, BSplineRecoversKnownDeformationOfRealCxr) {
  Case c = make_case();
  double affine = propagated_dice(c, Method::affine);
  double bspline = propagated_dice(c, Method::bspline);
  double both = propagated_dice(c, Method::bspline_demons);
  RecordProperty("dice_bspline", std::to_string(bspline));
  RecordProperty("dice_bspline_demons", std::to_string(both));
  EXPECT_GE(bspline, 0.95);
  EXPECT_GT(bspline, affine);
  EXPECT_GE(both, 0.95);
}

TEST(Registration, BSplineIsDeterministic) {
  Case c = make_case();
  RegistrationOptions opt;
  opt.method = Method::bspline;
  cv::Mat fixed = to_working(c.warped, opt.size), moving = to_working(c.original, opt.size);
  cv::Mat a = deformable_map(fixed, moving, affine_stage(fixed, moving, opt), opt);
  cv::Mat b = deformable_map(fixed, moving, affine_stage(fixed, moving, opt), opt);
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
}

TEST(Registration, IsDeterministic) {
  Case c = make_case();
  RegistrationOptions opt;
  cv::Mat fixed = to_working(c.warped, opt.size), moving = to_working(c.original, opt.size);
  cv::Mat a = deformable_map(fixed, moving, affine_stage(fixed, moving, opt), opt);
  cv::Mat b = deformable_map(fixed, moving, affine_stage(fixed, moving, opt), opt);
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
}

TEST(Frame, WarpToFullWithIdentityMapKeepsTheMask) {
  cv::Mat mask = cv::Mat::zeros(300, 200, CV_32F);
  cv::rectangle(mask, cv::Rect(40, 60, 100, 150), cv::Scalar(1), cv::FILLED);
  cv::Mat full = warp_to_full(mask, affine_map(cv::Matx23d(1, 0, 0, 0, 1, 0), 64), mask.size());
  EXPECT_LT(cv::norm(full, mask, cv::NORM_INF), 1e-4);
  // A map shifting by 8 working pixels of 64 moves a 200 px wide mask by 25 px.
  cv::Mat shifted = warp_to_full(mask, affine_map(cv::Matx23d(1, 0, 8, 0, 1, 0), 64), mask.size());
  EXPECT_NEAR(shifted.at<float>(100, 40 - 25), 1.0f, 1e-4);
  EXPECT_NEAR(shifted.at<float>(100, 40 - 25 - 1), 0.0f, 1e-4);
}

TEST(Similarity, CrossCorrelationAndDiceKnownValues) {
  cv::Mat a = (cv::Mat_<float>(1, 4) << 0, 1, 2, 3);
  cv::Mat b = 2 * a + 1, c = -a;
  EXPECT_NEAR(normalized_cross_correlation(a, b), 1.0, 1e-9);
  EXPECT_NEAR(normalized_cross_correlation(a, c), -1.0, 1e-9);
  cv::Mat m1 = (cv::Mat_<uchar>(1, 4) << 255, 255, 0, 0), m2 = (cv::Mat_<uchar>(1, 4) << 255, 0, 0, 0);
  EXPECT_NEAR(dice(m1, m2), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(dice(cv::Mat::zeros(2, 2, CV_8U), cv::Mat::zeros(2, 2, CV_8U)), 1.0);
}
