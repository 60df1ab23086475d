#include "pipeline/select_features.h"

#include <algorithm>
#include <cmath>

#include "common/progress.h"
#include "io/image_io.h"
#include "sam/predictor.h"

namespace sammpa {

cv::Mat pooled_embedding(const sam::ImageEmbedding& e) {
  const sam::Tensor& t = e.features;
  const int64_t c = t.dim(1), gh = t.dim(2), gw = t.dim(3);
  const cv::Size v = sam::valid_cells(e);
  const int64_t rows = v.height, cols = v.width;
  cv::Mat out(1, static_cast<int>(2 * c), CV_32FC1);
  for (int64_t ch = 0; ch < c; ++ch) {
    const float* plane = t.data() + ch * gh * gw;
    double sum = 0, sq = 0;
    for (int64_t y = 0; y < rows; ++y)
      for (int64_t x = 0; x < cols; ++x) sum += plane[y * gw + x], sq += double(plane[y * gw + x]) * plane[y * gw + x];
    const double n = static_cast<double>(rows * cols), mean = sum / n;
    out.at<float>(0, static_cast<int>(ch)) = static_cast<float>(mean);
    out.at<float>(0, static_cast<int>(c + ch)) = static_cast<float>(std::sqrt(std::max(0.0, sq / n - mean * mean)));
  }
  return out;
}

void standardise_features(cv::Mat& x) {
  CV_Assert(x.type() == CV_32FC1);
  for (int j = 0; j < x.cols; ++j) {
    cv::Scalar mean, sd;
    cv::meanStdDev(x.col(j), mean, sd);
    if (sd[0] > 1e-12)
      x.col(j) = (x.col(j) - mean[0]) / sd[0];
    else
      x.col(j).setTo(0);
  }
  for (int i = 0; i < x.rows; ++i) {
    const double n = cv::norm(x.row(i));
    if (n > 0) x.row(i) /= n;
  }
}

cv::Mat sam_selection_features(const Dataset& data, const EmbeddingSource& source) {
  sam::SamPredictor predictor(source.model);
  std::vector<cv::Mat> rows;
  Progress progress("select: SAM embeddings", data.size());
  for (const Sample& s : data.samples) {
    source.set(predictor, read_image(s.image), s.name);
    rows.push_back(pooled_embedding(predictor.embedding()));
    progress.tick();
  }
  progress.finish();
  cv::Mat all;
  cv::vconcat(rows, all);
  standardise_features(all);
  return all;
}

Selection select_with_features(const Dataset& data, const SelectOptions& o, const SegmentOptions& segment) {
  if (o.strategy != SelectStrategy::KCentroid || o.features != FeatureKind::Sam) return select_examples(data, o);
  if (o.k < 1 || static_cast<size_t>(o.k) > data.size()) return select_examples(data, o);  // its input errors
  return select_examples(data, o, sam_selection_features(data, open_embedding_source(segment)));
}

}  // namespace sammpa
