#pragma once
// What SAM's image embedding looks like where a candidate lies, for the ranked mode's ranker (ranker.h): the
// plain features (size, place, brightness, the soft map) say little about whether a dark blob is a lesion or a
// shadow; the embedding does. Each candidate is pooled to 2C numbers (C = the embedding's channels): its mean
// embedding inside, and inside minus a ring of cells around it. The ranker sees a few principal coordinates
// of these, the directions fitted without labels on the supports' candidates (EmbeddingProjection), so that
// ten supports' worth of candidates can weigh them.
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "refine/candidates.h"
#include "sam/image_embedding.h"

namespace sammpa {

// One row per candidate (CV_32F, candidates x 2C): [mean inside, mean inside - mean of the ring]. The
// candidate's work-frame mask is placed in the padded low-resolution frame and averaged onto the embedding's
// grid; the ring is the grid cells within 3 cells of the mask, weighted by how far outside they lie.
cv::Mat candidate_embeddings(const std::vector<MaskCandidate>& candidates, const sam::ImageEmbedding& embedding);

class EmbeddingProjection {
 public:
  // Principal directions of the rows of `pooled` (each a candidate_embeddings() result); at most `components`
  // and no more than the rows allow. components 0: an empty projection that adds nothing.
  static EmbeddingProjection fit(const std::vector<cv::Mat>& pooled, int components);
  int components() const { return basis_.rows; }
  // Appends each candidate's coordinates along the directions to its feature row.
  void append(const cv::Mat& pooled, std::vector<std::vector<double>>& features) const;
  nlohmann::json to_json() const;

 private:
  cv::Mat mean_, basis_;  // 1 x D, components x D (CV_32F)
  std::vector<double> explained_;  // share of the variance along each direction
};

}  // namespace sammpa
