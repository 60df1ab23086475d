#pragma once
// Step 1 on SAM's view of the images (`--features sam`): every image's embedding pooled into one row for the
// k-centroid clustering of select/. The embeddings go through the same cache steps 2-4 read, so in `sammpa
// run` selecting on them costs no encoder pass beyond those the run makes anyway.
#include <opencv2/core.hpp>

#include "io/dataset.h"
#include "pipeline/segment_dataset.h"
#include "sam/image_embedding.h"
#include "select/select.h"

namespace sammpa {

// 1 x 2C (CV_32FC1): each channel's mean, then each channel's standard deviation, over the grid cells that
// hold the image (the padding at the bottom and right is left out).
cv::Mat pooled_embedding(const sam::ImageEmbedding& embedding);

// In place: each column to mean 0 and standard deviation 1 over the rows (constant columns to 0), then each
// row to unit length, so that no channel dominates the distances by its scale alone.
void standardise_features(cv::Mat& features);

// The "sam" features of every image (N x 2C, standardised), row i for data.samples[i], with a progress bar.
cv::Mat sam_selection_features(const Dataset& data, const EmbeddingSource& source);

// Step 1 with options.features of any kind; "sam" opens the model and cache of `segment`.
Selection select_with_features(const Dataset& data, const SelectOptions& options, const SegmentOptions& segment);

}  // namespace sammpa
