#include "propagate/bspline_stage.h"

#include <algorithm>
#include <functional>

#include "common/error.h"
#include "itkBSplineTransform.h"
#include "itkBSplineTransformParametersAdaptor.h"
#include "itkCorrelationImageToImageMetricv4.h"
#include "itkImageRegistrationMethodv4.h"
#include "itkMattesMutualInformationImageToImageMetricv4.h"
#include "itkRegularStepGradientDescentOptimizerv4.h"
#include "propagate/itk_bridge.h"

namespace sammpa {

namespace {

using itk_bridge::Image;
using Transform = itk::BSplineTransform<double, 2, 3>;

// The mesh covers the fixed image's pixel centres, [0, size - 1] on each axis (spacing 1, origin 0).
void set_domain(Transform* t, const cv::Mat& fixed, int mesh) {
  Transform::PhysicalDimensionsType dims;
  dims[0] = fixed.cols - 1;
  dims[1] = fixed.rows - 1;
  Transform::OriginType origin;
  origin.Fill(0);
  Transform::DirectionType direction;
  direction.SetIdentity();
  Transform::MeshSizeType size;
  size.Fill(static_cast<itk::SizeValueType>(mesh));
  t->SetTransformDomainOrigin(origin);
  t->SetTransformDomainPhysicalDimensions(dims);
  t->SetTransformDomainDirection(direction);
  t->SetTransformDomainMeshSize(size);
  t->SetIdentity();
}

// One pyramid level: the transform (already on this level's mesh) is optimised in place on images
// shrunk by `shrink` after Gaussian smoothing.
template <typename Metric>
void optimise_level(Image* fixed, Image* moving, Transform* transform, typename Metric::Pointer metric,
                    unsigned shrink, int iterations, double step) {
  using Method = itk::ImageRegistrationMethodv4<Image, Image, Transform>;
  // Regular-step gradient descent: each step moves the control points by a fixed length in working pixels
  // along the gradient, so the parameters need no scaling and no learning-rate estimate. (ITK's L-BFGS-B,
  // tried first, aborted with heap corruption when two pairs ran in parallel threads.)
  auto optimizer = itk::RegularStepGradientDescentOptimizerv4<double>::New();
  optimizer->SetDoEstimateLearningRateOnce(false);
  optimizer->SetDoEstimateLearningRateAtEachIteration(false);
  optimizer->SetLearningRate(step);
  optimizer->SetMinimumStepLength(0.01);
  optimizer->SetRelaxationFactor(0.5);
  optimizer->SetNumberOfIterations(iterations);
  optimizer->SetNumberOfWorkUnits(1);

  auto method = Method::New();
  method->SetFixedImage(fixed);
  method->SetMovingImage(moving);
  method->SetMetric(metric);
  method->SetOptimizer(optimizer);
  method->SetInitialTransform(transform);
  method->InPlaceOn();
  method->SetMetricSamplingStrategy(Method::MetricSamplingStrategyEnum::NONE);
  method->SetNumberOfWorkUnits(1);
  typename Method::ShrinkFactorsArrayType shrinks(1);
  shrinks[0] = shrink;
  typename Method::SmoothingSigmasArrayType sigmas(1);
  sigmas[0] = 0.5 * (shrink - 1);  // working pixels; none at full resolution
  method->SetNumberOfLevels(1);
  method->SetShrinkFactorsPerLevel(shrinks);
  method->SetSmoothingSigmasPerLevel(sigmas);
  method->SetSmoothingSigmasAreSpecifiedInPhysicalUnits(true);
  method->Update();
}

template <typename Metric>
Transform::Pointer run(const cv::Mat& fixed, const cv::Mat& moving, const BSplineOptions& opt,
                       const std::function<typename Metric::Pointer()>& make_metric) {
  const int levels = std::max(1, opt.levels);
  auto fixed_itk = itk_bridge::to_itk(fixed), moving_itk = itk_bridge::to_itk(moving);
  const unsigned finest_shrink = static_cast<unsigned>(std::max(1, fixed.cols / std::max(8, opt.max_size)));
  auto transform = Transform::New();
  for (int l = 0; l < levels; ++l) {
    const int mesh = std::max(1, opt.mesh >> (levels - 1 - l));
    if (l == 0) {
      set_domain(transform, fixed, mesh);
    } else {
      // Refine the mesh; the adaptor carries the coarser solution over exactly.
      auto refined = Transform::New();
      set_domain(refined, fixed, mesh);
      auto adaptor = itk::BSplineTransformParametersAdaptor<Transform>::New();
      adaptor->SetTransform(transform);
      adaptor->SetRequiredFixedParameters(refined->GetFixedParameters());
      adaptor->AdaptTransformParameters();
    }
    const unsigned shrink = finest_shrink << (levels - 1 - l);
    optimise_level<Metric>(fixed_itk, moving_itk, transform, make_metric(), shrink, opt.iterations,
                           opt.step * shrink);
  }
  return transform;
}

}  // namespace

cv::Mat register_bspline(const cv::Mat& fixed, const cv::Mat& moving, const BSplineOptions& opt) {
  Transform::Pointer t;
  if (opt.metric == "correlation") {
    using Metric = itk::CorrelationImageToImageMetricv4<Image, Image>;
    t = run<Metric>(fixed, moving, opt, [] { return Metric::New(); });
  } else if (opt.metric == "mattes") {
    using Metric = itk::MattesMutualInformationImageToImageMetricv4<Image, Image>;
    t = run<Metric>(fixed, moving, opt, [] {
      auto metric = Metric::New();
      metric->SetNumberOfHistogramBins(32);
      return metric;
    });
  } else {
    throw InputError("--bspline-metric", "unknown metric '" + opt.metric + "' (correlation|mattes)");
  }
  cv::Mat d(fixed.rows, fixed.cols, CV_32FC2);
  Transform::InputPointType p;
  for (int y = 0; y < d.rows; ++y) {
    auto* row = d.ptr<cv::Vec2f>(y);
    for (int x = 0; x < d.cols; ++x) {
      p[0] = x;
      p[1] = y;
      const auto q = t->TransformPoint(p);
      row[x] = cv::Vec2f(static_cast<float>(q[0] - x), static_cast<float>(q[1] - y));
    }
  }
  return d;
}

}  // namespace sammpa
