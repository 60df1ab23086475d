#include "propagate/affine_stage.h"

#include <algorithm>

#include "itkAffineTransform.h"
#include "itkCorrelationImageToImageMetricv4.h"
#include "itkImageRegistrationMethodv4.h"
#include "itkRegistrationParameterScalesFromPhysicalShift.h"
#include "itkRegularStepGradientDescentOptimizerv4.h"
#include "propagate/itk_bridge.h"

namespace sammpa {

cv::Matx23d register_affine(const cv::Mat& fixed, const cv::Mat& moving, const AffineOptions& opt) {
  using itk_bridge::Image;
  using Transform = itk::AffineTransform<double, 2>;
  using Metric = itk::CorrelationImageToImageMetricv4<Image, Image>;
  using Optimizer = itk::RegularStepGradientDescentOptimizerv4<double>;
  using Method = itk::ImageRegistrationMethodv4<Image, Image, Transform>;

  auto transform = Transform::New();
  Transform::InputPointType centre;
  centre[0] = (fixed.cols - 1) / 2.0;
  centre[1] = (fixed.rows - 1) / 2.0;
  transform->SetCenter(centre);

  auto metric = Metric::New();
  auto scales = itk::RegistrationParameterScalesFromPhysicalShift<Metric>::New();
  scales->SetMetric(metric);
  auto optimizer = Optimizer::New();
  optimizer->SetScalesEstimator(scales);
  optimizer->SetDoEstimateLearningRateOnce(true);
  optimizer->SetLearningRate(1.0);
  optimizer->SetMinimumStepLength(1e-3);
  optimizer->SetRelaxationFactor(0.5);
  optimizer->SetNumberOfIterations(opt.iterations);
  optimizer->SetNumberOfWorkUnits(1);

  auto method = Method::New();
  method->SetFixedImage(itk_bridge::to_itk(fixed));
  method->SetMovingImage(itk_bridge::to_itk(moving));
  method->SetMetric(metric);
  method->SetOptimizer(optimizer);
  method->SetInitialTransform(transform);
  method->InPlaceOn();
  method->SetMetricSamplingStrategy(Method::MetricSamplingStrategyEnum::NONE);
  method->SetNumberOfWorkUnits(1);

  const int finest_shrink = std::max(1, fixed.cols / std::max(8, opt.max_size));
  Method::ShrinkFactorsArrayType shrink(opt.levels);
  Method::SmoothingSigmasArrayType sigmas(opt.levels);
  for (int l = 0; l < opt.levels; ++l) {
    shrink[l] = finest_shrink << (opt.levels - 1 - l);
    sigmas[l] = 0.5 * shrink[l];  // in physical units (= working pixels): about half a coarse pixel
  }
  method->SetNumberOfLevels(opt.levels);
  method->SetShrinkFactorsPerLevel(shrink);
  method->SetSmoothingSigmasPerLevel(sigmas);
  method->SetSmoothingSigmasAreSpecifiedInPhysicalUnits(true);
  method->Update();

  const auto& m = transform->GetMatrix();
  const auto& t = transform->GetOffset();
  return cv::Matx23d(m(0, 0), m(0, 1), t[0], m(1, 0), m(1, 1), t[1]);
}

}  // namespace sammpa
