#include "propagate/frame.h"

#include <opencv2/imgproc.hpp>

namespace sammpa {

cv::Mat to_working(const cv::Mat& image, int size) {
  cv::Mat grey = image;
  if (image.channels() == 3) cv::cvtColor(image, grey, cv::COLOR_RGB2GRAY);
  cv::Mat resized, out;
  int interp = (grey.cols > size || grey.rows > size) ? cv::INTER_AREA : cv::INTER_LINEAR;
  cv::resize(grey, resized, cv::Size(size, size), 0, 0, interp);
  resized.convertTo(out, CV_32F, 1.0 / 255.0);
  return out;
}

cv::Mat affine_map(const cv::Matx23d& a, int size) {
  cv::Mat map(size, size, CV_32FC2);
  for (int y = 0; y < size; ++y) {
    auto* row = map.ptr<cv::Vec2f>(y);
    for (int x = 0; x < size; ++x)
      row[x] = cv::Vec2f(static_cast<float>(a(0, 0) * x + a(0, 1) * y + a(0, 2)),
                         static_cast<float>(a(1, 0) * x + a(1, 1) * y + a(1, 2)));
  }
  return map;
}

cv::Mat sample(const cv::Mat& image, const cv::Mat& map, bool zero_outside) {
  cv::Mat out;
  cv::remap(image, out, map, cv::noArray(), cv::INTER_LINEAR,
            zero_outside ? cv::BORDER_CONSTANT : cv::BORDER_REPLICATE, cv::Scalar(0));
  return out;
}

cv::Mat warp_to_full(const cv::Mat& support_mask, const cv::Mat& map, cv::Size query_size) {
  const int size = map.cols;
  // OpenCV's linear resize uses the same pixel-centre convention as full_to_working.
  cv::Mat full_map;
  cv::resize(map, full_map, query_size, 0, 0, cv::INTER_LINEAR);
  const float sx = static_cast<float>(support_mask.cols) / size, sy = static_cast<float>(support_mask.rows) / size;
  full_map.forEach<cv::Vec2f>([&](cv::Vec2f& v, const int*) {
    v[0] = (v[0] + 0.5f) * sx - 0.5f;
    v[1] = (v[1] + 0.5f) * sy - 0.5f;
  });
  return sample(support_mask, full_map, true);
}

}  // namespace sammpa
