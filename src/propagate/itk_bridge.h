#pragma once
// Internal: CV_32F working images <-> ITK images (spacing 1, origin 0, so physical point = pixel index).
#include <cstring>
#include <opencv2/core.hpp>

#include "itkImage.h"

namespace sammpa::itk_bridge {

using Image = itk::Image<float, 2>;

inline Image::Pointer to_itk(const cv::Mat& m) {
  CV_Assert(m.type() == CV_32F);
  auto img = Image::New();
  Image::SizeType size{{static_cast<itk::SizeValueType>(m.cols), static_cast<itk::SizeValueType>(m.rows)}};
  img->SetRegions(Image::RegionType(size));
  img->Allocate();
  for (int y = 0; y < m.rows; ++y)
    std::memcpy(img->GetBufferPointer() + static_cast<size_t>(y) * m.cols, m.ptr<float>(y), m.cols * sizeof(float));
  return img;
}

}  // namespace sammpa::itk_bridge
