#pragma once
// Mask propagation in SAM's feature space (an alternative to registration for objects that move between
// images, such as breast lesions): a class-balanced logistic regression over the image embedding's channels,
// learned from the K support embeddings and their masks brought onto the embedding grid, predicts a soft map
// for each query. Everything learned comes from the run's own supports.
#include <opencv2/core.hpp>
#include <vector>

#include "sam/image_embedding.h"

namespace sammpa {

struct FeaturePropagationOptions {
  double l2 = 1.0;       // ridge penalty on the weights (features are standardised)
  int iterations = 12;   // Newton steps
  int max_negative_cells = 8000;  // background cells beyond this are thinned (every n-th kept): the fit's cost
  // Optionally each cell is also described by its channels minus its image's mean over the image's cells, so
  // that the classifier can set each image's level from how the image looks as a whole, and by its place in
  // the image (x and y from -0.5 to 0.5 over the image's cells, and their squares). Off by default: on BUSI they
  // find the lesion more often offline; end to end they gained on two support sets and lost on a third
  // (docs/RESULTS.md, "The soft map sees each image's level and the cell's place").
  bool image_relative = false;
  bool position = false;
};

// The fraction of each embedding-grid cell that a mask (image size, 0/255) covers, in the model's padded frame:
// CV_32FC1 grid x grid; cells outside the image (padding) are -1.
cv::Mat mask_on_embedding_grid(const cv::Mat& mask, const sam::ImageEmbedding& embedding);
// A grid x grid map (cells in the padded frame) back to the image's size (CV_32FC1, bilinear).
cv::Mat grid_to_image(const cv::Mat& grid, const sam::ImageEmbedding& embedding);

// One image's embeddings from two checkpoints as one: `own` (its frame) with `extra`'s channels after its own,
// so that the classifier sees both. Both models pad the image at the bottom and right and put it on the same
// grid (MobileSAM: 1024 px, LiteMedSAM: 256 px, both 64 x 64 cells), so cell (y, x) is the same place in both.
// InputError when the grids differ.
sam::ImageEmbedding stack_embeddings(const sam::ImageEmbedding& own, const sam::ImageEmbedding& extra);
// stack_embeddings for every image of two lists in the same order (the supports under both checkpoints).
std::vector<sam::ImageEmbedding> stack_each(const std::vector<sam::ImageEmbedding>& own,
                                            const std::vector<sam::ImageEmbedding>& extra);

class FeatureClassifier {
 public:
  // InputError when the supports hold no object pixel at all.
  static FeatureClassifier train(const std::vector<const sam::ImageEmbedding*>& supports,
                                 const std::vector<cv::Mat>& masks, const FeaturePropagationOptions& options);
  // Soft map (CV_32FC1 in [0, 1]) at the query's image size.
  cv::Mat predict(const sam::ImageEmbedding& query) const;
  // The fitted model on standardised features: (D + 1) x 1 (CV_32F), the bias last; D = C channels, then C
  // image-relative ones and 4 of position where the options ask for them.
  const cv::Mat& weights() const { return weights_; }

 private:
  FeaturePropagationOptions options_;  // which descriptions of a cell it was fitted on
  cv::Mat mean_, scale_;  // 1 x D standardisation
  cv::Mat weights_;       // (D + 1) x 1, last = bias
};

}  // namespace sammpa
