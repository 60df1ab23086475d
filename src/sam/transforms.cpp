#include "sam/transforms.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <vector>

namespace sammpa::sam {

ImageFrame make_frame(int orig_h, int orig_w, int target, int low_res) {
  // Same rounding as ResizeLongestSide.get_preprocess_shape.
  double scale = static_cast<double>(target) / std::max(orig_h, orig_w);
  ImageFrame f;
  f.orig_h = orig_h;
  f.orig_w = orig_w;
  // At least one pixel: a very thin image (e.g. 1x700 for LiteMedSAM's 256) would otherwise round to 0, where
  // the official code fails.
  f.input_h = std::max(1, static_cast<int>(orig_h * scale + 0.5));
  f.input_w = std::max(1, static_cast<int>(orig_w * scale + 0.5));
  f.target = target;
  f.low_res = low_res;
  return f;
}

namespace {

// Pillow's fixed-point resampling: coefficients scaled by 2^22, accumulated in 32-bit ints.
constexpr int kPrecisionBits = 32 - 8 - 2;

struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;  // per output: xmin, count
  std::vector<int> k;       // per output: ksize fixed-point weights
};

Coeffs pil_bilinear_coeffs(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;  // the bilinear (triangle) filter has support 1
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(2 * out_size);
  c.k.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      double t = std::abs((x + xmin - center + 0.5) * ss);
      w[x] = t < 1.0 ? 1.0 - t : 0.0;
      ww += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      double v = ww != 0.0 ? w[x] / ww : w[x];
      c.k[static_cast<size_t>(xx) * c.ksize + x] =
          static_cast<int>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    c.bounds[2 * xx] = xmin;
    c.bounds[2 * xx + 1] = xmax;
  }
  return c;
}

inline uint8_t clip8(int v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(std::clamp(v, 0, 255));
}

cv::Mat resample_horizontal(const cv::Mat& in, int out_w) {
  Coeffs c = pil_bilinear_coeffs(in.cols, out_w);
  const int ch = in.channels();
  cv::Mat out(in.rows, out_w, in.type());
  for (int y = 0; y < in.rows; ++y) {
    const uint8_t* src = in.ptr<uint8_t>(y);
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int xx = 0; xx < out_w; ++xx) {
      const int xmin = c.bounds[2 * xx], n = c.bounds[2 * xx + 1];
      const int* k = &c.k[static_cast<size_t>(xx) * c.ksize];
      for (int cc = 0; cc < ch; ++cc) {
        int ss = 1 << (kPrecisionBits - 1);
        for (int x = 0; x < n; ++x) ss += src[(x + xmin) * ch + cc] * k[x];
        dst[xx * ch + cc] = clip8(ss);
      }
    }
  }
  return out;
}

cv::Mat resample_vertical(const cv::Mat& in, int out_h) {
  Coeffs c = pil_bilinear_coeffs(in.rows, out_h);
  const int row_len = in.cols * in.channels();
  cv::Mat out(out_h, in.cols, in.type());
  for (int yy = 0; yy < out_h; ++yy) {
    const int ymin = c.bounds[2 * yy], n = c.bounds[2 * yy + 1];
    const int* k = &c.k[static_cast<size_t>(yy) * c.ksize];
    uint8_t* dst = out.ptr<uint8_t>(yy);
    for (int i = 0; i < row_len; ++i) {
      int ss = 1 << (kPrecisionBits - 1);
      for (int y = 0; y < n; ++y) ss += in.ptr<uint8_t>(y + ymin)[i] * k[y];
      dst[i] = clip8(ss);
    }
  }
  return out;
}

}  // namespace

cv::Mat resize_pil_bilinear(const cv::Mat& image, int out_w, int out_h) {
  if (image.depth() != CV_8U) throw std::invalid_argument("resize_pil_bilinear: 8-bit images only");
  cv::Mat cur = image.isContinuous() ? image : image.clone();
  // Pillow runs the horizontal pass first and skips a pass whose size does not change.
  if (out_w != cur.cols) cur = resample_horizontal(cur, out_w);
  if (out_h != cur.rows) cur = resample_vertical(cur, out_h);
  return cur.data == image.data ? image.clone() : cur;
}

Tensor preprocess_image(const cv::Mat& image, const ImageFrame& frame) {
  if (image.rows != frame.orig_h || image.cols != frame.orig_w)
    throw std::invalid_argument("preprocess_image: image size does not match its frame");
  cv::Mat rgb = image;
  if (image.channels() == 1) cv::cvtColor(image, rgb, cv::COLOR_GRAY2RGB);
  cv::Mat resized = resize_pil_bilinear(rgb, frame.input_w, frame.input_h);
  static constexpr float mean[3] = {123.675f, 116.28f, 103.53f};
  static constexpr float stdev[3] = {58.395f, 57.12f, 57.375f};
  const int s = frame.target;
  Tensor out = Tensor::zeros({1, 3, s, s});
  for (int c = 0; c < 3; ++c) {
    float* plane = out.data() + static_cast<size_t>(c) * s * s;
    for (int y = 0; y < frame.input_h; ++y) {
      const uint8_t* row = resized.ptr<uint8_t>(y);
      for (int x = 0; x < frame.input_w; ++x) plane[y * s + x] = (row[x * 3 + c] - mean[c]) / stdev[c];
    }
  }
  return out;
}

Tensor preprocess_image_minmax(const cv::Mat& image, const ImageFrame& frame) {
  if (image.rows != frame.orig_h || image.cols != frame.orig_w)
    throw std::invalid_argument("preprocess_image_minmax: image size does not match its frame");
  cv::Mat rgb = image;
  if (image.channels() == 1) cv::cvtColor(image, rgb, cv::COLOR_GRAY2RGB);
  cv::Mat resized;
  cv::resize(rgb, resized, {frame.input_w, frame.input_h}, 0, 0, cv::INTER_AREA);
  double lo = 0, hi = 0;
  cv::minMaxLoc(resized.reshape(1), &lo, &hi);
  // 8-bit differences divided in double, then stored as float32 (numpy's uint8 / float64, then .float()).
  const double range = std::max(hi - lo, 1e-8);
  const int mn = static_cast<int>(lo);
  const int s = frame.target;
  Tensor out = Tensor::zeros({1, 3, s, s});
  for (int c = 0; c < 3; ++c) {
    float* plane = out.data() + static_cast<size_t>(c) * s * s;
    for (int y = 0; y < frame.input_h; ++y) {
      const uint8_t* row = resized.ptr<uint8_t>(y);
      for (int x = 0; x < frame.input_w; ++x) plane[y * s + x] = static_cast<float>((row[x * 3 + c] - mn) / range);
    }
  }
  return out;
}

std::array<float, 2> to_input_coords(float x, float y, const ImageFrame& f) {
  // Computed in double, as the official code does with numpy float64, then stored as float32.
  return {static_cast<float>(x * (static_cast<double>(f.input_w) / f.orig_w)),
          static_cast<float>(y * (static_cast<double>(f.input_h) / f.orig_h))};
}

void resize_plane_bilinear(const float* src, int src_h, int src_w, float* dst, int out_h, int out_w, int out_rows,
                           int out_cols) {
  // PyTorch's taps for align_corners=False: a float scale ratio, the source coordinate in double (clamped at
  // 0), the weights rounded to float; the upper neighbour clamped at the last pixel.
  struct Taps {
    std::vector<int> i0, i1;
    std::vector<float> w0, w1;
  };
  auto taps = [](int in, int out, int count) {
    Taps t{std::vector<int>(count), std::vector<int>(count), std::vector<float>(count), std::vector<float>(count)};
    const double scale = static_cast<float>(in) / static_cast<float>(out);
    for (int o = 0; o < count; ++o) {
      const double s = std::max(scale * (o + 0.5) - 0.5, 0.0);
      const int i = std::min(static_cast<int>(s), in - 1);
      const double lambda = std::clamp(s - i, 0.0, 1.0);
      t.i0[o] = i;
      t.i1[o] = i < in - 1 ? i + 1 : i;
      t.w1[o] = static_cast<float>(lambda);
      t.w0[o] = static_cast<float>(1.0 - lambda);
    }
    return t;
  };
  const Taps ty = taps(src_h, out_h, out_rows), tx = taps(src_w, out_w, out_cols);
  // Separable, in the official order: first along x for each source row the output uses, then along y as a
  // weighted sum of two such rows: h0 * (w0 a + w1 b) + h1 * (w0 c + w1 d), the same operations as computing
  // each pixel from its four neighbours, with the gathers done once per source row instead of per output row.
  // Rows in parallel when there are enough of them (a mask at the image size: about a millisecond per plane on
  // one core); inside another parallel region this runs on the calling thread alone.
  const int first = ty.i0.empty() ? 0 : ty.i0.front(), last = ty.i1.empty() ? -1 : ty.i1.back();
  std::vector<float> along_x(static_cast<size_t>(std::max(0, last - first + 1)) * out_cols);
  const bool parallel = static_cast<int64_t>(out_rows) * out_cols >= (1 << 16);
#pragma omp parallel if (parallel)
  {
#pragma omp for schedule(static)
    for (int r = first; r <= last; ++r) {
      const float* row = src + static_cast<size_t>(r) * src_w;
      float* t = along_x.data() + static_cast<size_t>(r - first) * out_cols;
      for (int x = 0; x < out_cols; ++x) t[x] = tx.w0[x] * row[tx.i0[x]] + tx.w1[x] * row[tx.i1[x]];
    }
#pragma omp for schedule(static)
    for (int y = 0; y < out_rows; ++y) {
      const float* t0 = along_x.data() + static_cast<size_t>(ty.i0[y] - first) * out_cols;
      const float* t1 = along_x.data() + static_cast<size_t>(ty.i1[y] - first) * out_cols;
      const float h0 = ty.w0[y], h1 = ty.w1[y];
      float* out = dst + static_cast<size_t>(y) * out_cols;
      for (int x = 0; x < out_cols; ++x) out[x] = h0 * t0[x] + h1 * t1[x];
    }
  }
}

Tensor upscale_mask_logits(const Tensor& low_res, const ImageFrame& f) {
  if (low_res.rank() != 4) throw std::invalid_argument("upscale_mask_logits: expected [B, M, h, w]");
  const int64_t planes = low_res.dim(0) * low_res.dim(1);
  const int lh = static_cast<int>(low_res.dim(2)), lw = static_cast<int>(low_res.dim(3));
  Tensor out({low_res.dim(0), low_res.dim(1), f.orig_h, f.orig_w});
  std::vector<float> mid(static_cast<size_t>(f.input_h) * f.input_w);
  for (int64_t p = 0; p < planes; ++p) {
    resize_plane_bilinear(low_res.data() + p * lh * lw, lh, lw, mid.data(), f.target, f.target, f.input_h,
                          f.input_w);
    resize_plane_bilinear(mid.data(), f.input_h, f.input_w, out.data() + p * f.orig_h * f.orig_w, f.orig_h,
                          f.orig_w, f.orig_h, f.orig_w);
  }
  return out;
}

}  // namespace sammpa::sam
