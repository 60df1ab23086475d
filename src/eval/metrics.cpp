#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace sammpa {
namespace {

void check_pair(const cv::Mat& a, const cv::Mat& b) {
  if (a.type() != CV_8UC1 || b.type() != CV_8UC1) throw std::invalid_argument("masks must be CV_8UC1");
  if (a.size() != b.size()) throw std::invalid_argument("masks differ in size");
}

struct Counts {
  double pred = 0, truth = 0, both = 0;
};

Counts count(const cv::Mat& pred, const cv::Mat& truth) {
  check_pair(pred, truth);
  Counts c;
  for (int y = 0; y < pred.rows; ++y) {
    const uint8_t* p = pred.ptr<uint8_t>(y);
    const uint8_t* t = truth.ptr<uint8_t>(y);
    for (int x = 0; x < pred.cols; ++x) {
      c.pred += p[x] != 0;
      c.truth += t[x] != 0;
      c.both += p[x] != 0 && t[x] != 0;
    }
  }
  return c;
}

// Distances from each boundary pixel of `from` to the nearest boundary pixel of `to`, appended to out.
void boundary_distances(const cv::Mat& from_boundary, const cv::Mat& to_boundary, std::vector<double>& out) {
  cv::Mat not_to = to_boundary == 0;  // distanceTransform measures the distance to the nearest zero pixel
  cv::Mat dist;
  cv::distanceTransform(not_to, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE, CV_32F);
  for (int y = 0; y < from_boundary.rows; ++y) {
    const uint8_t* b = from_boundary.ptr<uint8_t>(y);
    const float* d = dist.ptr<float>(y);
    for (int x = 0; x < from_boundary.cols; ++x)
      if (b[x]) out.push_back(d[x]);
  }
}

}  // namespace

cv::Mat mask_boundary(const cv::Mat& mask) {
  cv::Mat fg = mask != 0, padded, eroded;
  cv::copyMakeBorder(fg, padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, 0);
  cv::erode(padded, eroded, cv::getStructuringElement(cv::MORPH_CROSS, {3, 3}), {-1, -1}, 1, cv::BORDER_CONSTANT,
            cv::Scalar(0));
  cv::Mat inner = eroded(cv::Rect(1, 1, mask.cols, mask.rows));
  return fg & ~inner;
}

double dice_score(const cv::Mat& pred, const cv::Mat& truth) {
  Counts c = count(pred, truth);
  return c.pred + c.truth == 0 ? 1.0 : 2 * c.both / (c.pred + c.truth);
}

double iou_score(const cv::Mat& pred, const cv::Mat& truth) {
  Counts c = count(pred, truth);
  const double uni = c.pred + c.truth - c.both;
  return uni == 0 ? 1.0 : c.both / uni;
}

std::optional<double> surface_distance_percentile(const cv::Mat& pred, const cv::Mat& truth, double p) {
  check_pair(pred, truth);
  const bool pred_empty = cv::countNonZero(pred) == 0, truth_empty = cv::countNonZero(truth) == 0;
  if (pred_empty && truth_empty) return 0.0;
  if (pred_empty || truth_empty) return std::nullopt;
  cv::Mat bp = mask_boundary(pred), bt = mask_boundary(truth);
  std::vector<double> d;
  boundary_distances(bp, bt, d);
  boundary_distances(bt, bp, d);
  return percentile(std::move(d), p);
}

std::optional<double> hd95(const cv::Mat& pred, const cv::Mat& truth) {
  return surface_distance_percentile(pred, truth, 95.0);
}

MaskScores score_masks(const cv::Mat& pred, const cv::Mat& truth) {
  return {dice_score(pred, truth), iou_score(pred, truth), hd95(pred, truth)};
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) throw std::invalid_argument("percentile of no values");
  const double pos = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + lo, v.end());
  const double a = v[lo];
  const double b = hi == lo ? a : *std::min_element(v.begin() + lo + 1, v.end());
  return a + (pos - static_cast<double>(lo)) * (b - a);
}

bool clearly_positive(const std::vector<double>& d) {
  if (d.size() < 2) return false;
  const Summary s = summarize(d);
  const double se = s.std / std::sqrt(static_cast<double>(s.n - 1));
  return s.mean > 1e-12 && s.mean > se * (1 + 1e-9) + 1e-12;
}

Summary summarize(const std::vector<double>& values) {
  Summary s;
  s.n = values.size();
  if (values.empty()) {
    s.mean = s.std = s.median = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(s.n);
  double sq = 0;
  for (double v : values) sq += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(sq / static_cast<double>(s.n));
  s.median = percentile(values, 50.0);
  return s;
}

Summary summarize(const std::vector<std::optional<double>>& values) {
  std::vector<double> defined;
  for (const auto& v : values)
    if (v) defined.push_back(*v);
  Summary s = summarize(defined);
  s.undefined = values.size() - defined.size();
  return s;
}

}  // namespace sammpa
