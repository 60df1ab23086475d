#include "propagate/deformable_stage.h"

#include "itkDiffeomorphicDemonsRegistrationFilter.h"
#include "itkESMDemonsRegistrationFunction.h"
#include "itkHistogramMatchingImageFilter.h"
#include "itkMultiResolutionPDEDeformableRegistration.h"
#include "propagate/itk_bridge.h"

namespace sammpa {

cv::Mat register_demons(const cv::Mat& fixed, const cv::Mat& moving, const DemonsOptions& opt) {
  using itk_bridge::Image;
  using Field = itk::Image<itk::Vector<float, 2>, 2>;
  using Demons = itk::DiffeomorphicDemonsRegistrationFilter<Image, Image, Field>;
  using Pyramid = itk::MultiResolutionPDEDeformableRegistration<Image, Image, Field, float>;

  auto fixed_itk = itk_bridge::to_itk(fixed);
  // Demons assumes equal intensities for corresponding points: match the moving histogram first.
  auto matcher = itk::HistogramMatchingImageFilter<Image, Image>::New();
  matcher->SetInput(itk_bridge::to_itk(moving));
  matcher->SetReferenceImage(fixed_itk);
  matcher->SetNumberOfHistogramLevels(256);
  matcher->SetNumberOfMatchPoints(15);
  matcher->ThresholdAtMeanIntensityOn();
  matcher->SetNumberOfWorkUnits(1);

  auto demons = Demons::New();
  demons->SetStandardDeviations(opt.field_sigma);
  demons->SetMaximumUpdateStepLength(opt.max_step);
  demons->SetUseGradientType(itk::ESMDemonsRegistrationFunctionEnums::Gradient::Symmetric);
  demons->SetNumberOfWorkUnits(1);

  auto pyramid = Pyramid::New();
  pyramid->SetRegistrationFilter(demons);
  pyramid->SetNumberOfLevels(static_cast<unsigned>(opt.iterations.size()));
  std::vector<unsigned> iters(opt.iterations.begin(), opt.iterations.end());
  pyramid->SetNumberOfIterations(iters.data());
  pyramid->SetFixedImage(fixed_itk);
  pyramid->SetMovingImage(matcher->GetOutput());
  pyramid->SetNumberOfWorkUnits(1);
  pyramid->Update();

  const Field* field = pyramid->GetOutput();
  cv::Mat d(fixed.rows, fixed.cols, CV_32FC2);
  const auto* src = field->GetBufferPointer();
  for (int y = 0; y < d.rows; ++y) {
    auto* row = d.ptr<cv::Vec2f>(y);
    for (int x = 0; x < d.cols; ++x, ++src) row[x] = cv::Vec2f((*src)[0], (*src)[1]);
  }
  return d;
}

}  // namespace sammpa
