#include "propagate/feature_propagation.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "sam/nn/ops.h"

namespace sammpa {

namespace {

int grid_of(const sam::ImageEmbedding& e) { return static_cast<int>(e.features.dim(2)); }

// Rows of valid cells (row-major over the grid) x their description: the C channels, then, as the options ask,
// the channels minus the image's mean over its cells and the cell's position (x, y, x^2, y^2).
cv::Mat cell_features(const sam::ImageEmbedding& e, const FeaturePropagationOptions& o,
                      std::vector<cv::Point>* cells = nullptr) {
  const int c = static_cast<int>(e.features.dim(1)), g = grid_of(e);
  const cv::Size v = sam::valid_cells(e);
  const int cols = c * (o.image_relative ? 2 : 1) + (o.position ? 4 : 0);
  cv::Mat x(v.area(), cols, CV_32F);
  const float* f = e.features.data();
  std::vector<double> mean(static_cast<size_t>(c), 0.0);
  for (int y = 0, r = 0; y < v.height; ++y)
    for (int xx = 0; xx < v.width; ++xx, ++r) {
      float* row = x.ptr<float>(r);
      for (int ch = 0; ch < c; ++ch) row[ch] = f[(static_cast<int64_t>(ch) * g + y) * g + xx];
      if (o.image_relative)
        for (int ch = 0; ch < c; ++ch) mean[static_cast<size_t>(ch)] += row[ch];
      if (o.position) {
        const float px = (xx + 0.5f) / v.width - 0.5f, py = (y + 0.5f) / v.height - 0.5f;
        float* pos = row + cols - 4;
        pos[0] = px, pos[1] = py, pos[2] = px * px, pos[3] = py * py;
      }
      if (cells) cells->push_back({xx, y});
    }
  if (o.image_relative)
    for (int r = 0; r < x.rows; ++r) {
      float* row = x.ptr<float>(r);
      for (int ch = 0; ch < c; ++ch) row[c + ch] = row[ch] - static_cast<float>(mean[static_cast<size_t>(ch)] / x.rows);
    }
  return x;
}

}  // namespace

cv::Mat mask_on_embedding_grid(const cv::Mat& mask, const sam::ImageEmbedding& e) {
  const auto& f = e.frame;
  CV_Assert(mask.rows == f.orig_h && mask.cols == f.orig_w);
  const int g = grid_of(e);
  cv::Mat m, square = cv::Mat::zeros(f.target, f.target, CV_32F), grid;
  mask.convertTo(m, CV_32F, 1.0 / 255.0);
  cv::resize(m, m, {f.input_w, f.input_h}, 0, 0, cv::INTER_AREA);
  m.copyTo(square(cv::Rect(0, 0, f.input_w, f.input_h)));
  cv::resize(square, grid, {g, g}, 0, 0, cv::INTER_AREA);
  const cv::Size v = sam::valid_cells(e);
  for (int y = 0; y < g; ++y)
    for (int x = 0; x < g; ++x)
      if (x >= v.width || y >= v.height) grid.at<float>(y, x) = -1.f;
  return grid;
}

cv::Mat grid_to_image(const cv::Mat& grid, const sam::ImageEmbedding& e) {
  const auto& f = e.frame;
  cv::Mat square, out;
  cv::resize(grid, square, {f.target, f.target}, 0, 0, cv::INTER_LINEAR);
  cv::resize(square(cv::Rect(0, 0, f.input_w, f.input_h)), out, {f.orig_w, f.orig_h}, 0, 0, cv::INTER_LINEAR);
  return out;
}

sam::ImageEmbedding stack_embeddings(const sam::ImageEmbedding& own, const sam::ImageEmbedding& extra) {
  const auto &a = own.features, &b = extra.features;
  if (a.rank() != 4 || b.rank() != 4 || a.dim(2) != b.dim(2) || a.dim(3) != b.dim(3))
    throw InputError("feature propagation", "the two checkpoints' embedding grids differ: " + a.shape_str() +
                                                " and " + b.shape_str());
  if (own.frame.orig_w != extra.frame.orig_w || own.frame.orig_h != extra.frame.orig_h)
    throw InputError("feature propagation", "the two embeddings are of images of different sizes");
  sam::ImageEmbedding s = own;
  s.features = sam::Tensor({1, a.dim(1) + b.dim(1), a.dim(2), a.dim(3)});
  std::copy(a.data(), a.data() + a.numel(), s.features.data());
  std::copy(b.data(), b.data() + b.numel(), s.features.data() + a.numel());
  return s;
}

std::vector<sam::ImageEmbedding> stack_each(const std::vector<sam::ImageEmbedding>& own,
                                            const std::vector<sam::ImageEmbedding>& extra) {
  if (own.size() != extra.size()) throw InputError("feature propagation", "every image needs both embeddings");
  std::vector<sam::ImageEmbedding> out;
  for (size_t i = 0; i < own.size(); ++i) out.push_back(stack_embeddings(own[i], extra[i]));
  return out;
}

FeatureClassifier FeatureClassifier::train(const std::vector<const sam::ImageEmbedding*>& supports,
                                           const std::vector<cv::Mat>& masks, const FeaturePropagationOptions& o) {
  CV_Assert(supports.size() == masks.size() && !supports.empty());
  cv::Mat x, y;  // cells x D, cells x 1 (coverage fraction as a soft label)
  for (size_t i = 0; i < supports.size(); ++i) {
    cv::Mat xi = cell_features(*supports[i], o);
    const cv::Mat grid = mask_on_embedding_grid(masks[i], *supports[i]);
    const cv::Size v = sam::valid_cells(*supports[i]);
    cv::Mat yi(v.area(), 1, CV_32F);
    for (int r = 0; r < v.area(); ++r) yi.at<float>(r) = grid.at<float>(r / v.width, r % v.width);
    x.push_back(xi);
    y.push_back(yi);
  }
  if (cv::sum(y)[0] < 0.5) throw InputError("feature propagation: the support masks hold no object");
  {  // Thin the background cells (every n-th, deterministic) so that the fit stays cheap for large K.
    int negatives = 0;
    for (int r = 0; r < y.rows; ++r) negatives += y.at<float>(r) <= 0.f;
    const int stride = (negatives + o.max_negative_cells - 1) / std::max(1, o.max_negative_cells);
    if (stride > 1) {
      cv::Mat xk, yk;
      for (int r = 0, seen = 0; r < y.rows; ++r) {
        const bool background = y.at<float>(r) <= 0.f;
        if (!background || seen++ % stride == 0) xk.push_back(x.row(r)), yk.push_back(y.row(r));
      }
      x = xk;
      y = yk;
    }
  }
  const double positive = cv::sum(y)[0];
  FeatureClassifier fc;
  fc.options_ = o;
  cv::Mat sd;
  cv::reduce(x, fc.mean_, 0, cv::REDUCE_AVG);
  cv::Mat centred = x - cv::repeat(fc.mean_, x.rows, 1);
  cv::reduce(centred.mul(centred), sd, 0, cv::REDUCE_AVG);
  cv::sqrt(sd, sd);
  fc.scale_ = 1.0 / (sd + 1e-6);
  const cv::Mat z = centred.mul(cv::repeat(fc.scale_, x.rows, 1));
  // The design matrix transposed, [d, n] with the bias as its last row: each Newton step's Hessian is then one
  // product through the engine, xs xs^T (d x d), where OpenCV's double product and its row-scaled copies took
  // most of the fit (about 1 s of CPU per fit with 513 features and 9000 cells).
  const int n = x.rows, d = x.cols + 1;
  cv::Mat xt(d, n, CV_32F);
  cv::Mat(z.t()).copyTo(xt.rowRange(0, d - 1));
  xt.row(d - 1).setTo(1.f);
  // Class balance: positives and negatives weigh the same in total.
  const double wpos = n / (2 * positive), wneg = n / (2 * (n - positive));
  std::vector<double> w(static_cast<size_t>(d), 0.0), p(static_cast<size_t>(n)), r(static_cast<size_t>(n));
  std::vector<float> s(static_cast<size_t>(n));
  cv::Mat xs(d, n, CV_32F);
  for (int it = 0; it < o.iterations; ++it) {
    std::fill(p.begin(), p.end(), 0.0);
    for (int j = 0; j < d; ++j) {
      const float* row = xt.ptr<float>(j);
      const double wj = w[static_cast<size_t>(j)];
      for (int i = 0; i < n; ++i) p[static_cast<size_t>(i)] += wj * row[i];
    }
    for (int i = 0; i < n; ++i) {
      const double pi = 1.0 / (1.0 + std::exp(-p[static_cast<size_t>(i)])), ti = y.at<float>(i);
      const double wi = ti * wpos + (1 - ti) * wneg;
      r[static_cast<size_t>(i)] = wi * (pi - ti);
      s[static_cast<size_t>(i)] = static_cast<float>(std::sqrt(wi * pi * (1 - pi) + 1e-12));
    }
    // The gradient in double; the Hessian in float only changes the path to the same optimum, not the optimum.
    cv::Mat g(d, 1, CV_64F);
    for (int j = 0; j < d; ++j) {
      const float* row = xt.ptr<float>(j);
      float* scaled = xs.ptr<float>(j);
      double acc = 0;
      for (size_t i = 0; i < static_cast<size_t>(n); ++i) acc += row[i] * r[i], scaled[i] = row[i] * s[i];
      g.at<double>(j) = acc + (j < d - 1 ? o.l2 * w[static_cast<size_t>(j)] : 0.0);  // no penalty on the bias
    }
    const sam::Tensor xv = sam::Tensor::view(xs.ptr<float>(), {d, n});
    const sam::Tensor hf = sam::nn::matmul(xv, xv, /*transpose_b=*/true);
    cv::Mat h(d, d, CV_64F), step;
    for (int a = 0; a < d; ++a)
      for (int b = 0; b < d; ++b) h.at<double>(a, b) = hf.data()[a * d + b] + (a == b && a < d - 1 ? o.l2 : 0.0);
    cv::solve(h, g, step, cv::DECOMP_CHOLESKY);
    for (int j = 0; j < d; ++j) w[static_cast<size_t>(j)] -= step.at<double>(j);
  }
  cv::Mat(w).convertTo(fc.weights_, CV_32F);
  return fc;
}

cv::Mat FeatureClassifier::predict(const sam::ImageEmbedding& q) const {
  std::vector<cv::Point> cells;
  cv::Mat x = cell_features(q, options_, &cells);
  cv::Mat z = (x - cv::repeat(mean_, x.rows, 1)).mul(cv::repeat(scale_, x.rows, 1));
  const int c = z.cols;
  cv::Mat logit = z * weights_.rowRange(0, c) + weights_.at<float>(c);
  const int g = grid_of(q);
  cv::Mat grid = cv::Mat::zeros(g, g, CV_32F);
  for (size_t i = 0; i < cells.size(); ++i)
    grid.at<float>(cells[i]) = 1.f / (1.f + std::exp(-logit.at<float>(static_cast<int>(i))));
  cv::Mat soft = grid_to_image(grid, q);
  cv::min(cv::max(soft, 0.0), 1.0, soft);
  return soft;
}

}  // namespace sammpa
