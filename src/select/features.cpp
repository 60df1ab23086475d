#include "select/features.h"

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "io/image_io.h"

namespace sammpa {
namespace {

constexpr int kThumbSide = 32;
constexpr int kHistBins = 32;

// Appends the z-scored thumbnail, scaled to unit length.
void append_thumbnail(const cv::Mat& grey, std::vector<float>& out) {
  cv::Mat thumb;
  cv::resize(grey, thumb, {kThumbSide, kThumbSide}, 0, 0, cv::INTER_AREA);
  thumb.convertTo(thumb, CV_64F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(thumb, mean, stddev);
  const double n = static_cast<double>(thumb.total());
  // A flat image has no layout: all zeros (its distance to everything is then set by the other blocks).
  const double scale = stddev[0] > 1e-9 ? 1.0 / (stddev[0] * std::sqrt(n)) : 0.0;
  for (int y = 0; y < thumb.rows; ++y)
    for (int x = 0; x < thumb.cols; ++x) out.push_back(static_cast<float>((thumb.at<double>(y, x) - mean[0]) * scale));
}

// Appends the square root of the normalised intensity histogram (unit length by construction).
void append_histogram(const cv::Mat& grey, std::vector<float>& out) {
  std::vector<double> hist(kHistBins, 0.0);
  for (int y = 0; y < grey.rows; ++y) {
    const uint8_t* row = grey.ptr<uint8_t>(y);
    for (int x = 0; x < grey.cols; ++x) hist[row[x] * kHistBins / 256] += 1.0;
  }
  const double total = static_cast<double>(grey.total());
  for (double h : hist) out.push_back(static_cast<float>(std::sqrt(h / total)));
}

}  // namespace

FeatureKind parse_feature_kind(const std::string& name) {
  if (name == "thumbnail") return FeatureKind::Thumbnail;
  if (name == "thumbnail-hist") return FeatureKind::ThumbnailHist;
  if (name == "sam") return FeatureKind::Sam;
  std::string known;
  for (const auto& n : feature_kind_names()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("--features", "unknown feature kind '" + name + "' (known: " + known + ")");
}

std::string feature_kind_name(FeatureKind kind) {
  switch (kind) {
    case FeatureKind::Thumbnail: return "thumbnail";
    case FeatureKind::ThumbnailHist: return "thumbnail-hist";
    case FeatureKind::Sam: return "sam";
  }
  return "?";
}

std::vector<std::string> feature_kind_names() { return {"thumbnail", "thumbnail-hist", "sam"}; }

cv::Mat image_features(const cv::Mat& image, FeatureKind kind) {
  if (kind == FeatureKind::Sam)
    throw InputError("--features", "'sam' features come from the SAM embeddings, which the pipeline computes");
  cv::Mat grey = to_grey(image);
  std::vector<float> f;
  append_thumbnail(grey, f);
  if (kind == FeatureKind::ThumbnailHist) append_histogram(grey, f);
  return cv::Mat(f, true).reshape(1, 1);
}

cv::Mat dataset_features(const Dataset& dataset, FeatureKind kind, int threads) {
  const size_t n = dataset.size();
  std::vector<cv::Mat> rows(n);
  Progress progress("features", n);
  parallel_for(n, threads, [&](size_t i) {
    rows[i] = image_features(read_image(dataset.samples[i].image), kind);
    progress.tick();
  });
  progress.finish();
  cv::Mat all;
  cv::vconcat(rows, all);
  return all;
}

}  // namespace sammpa
