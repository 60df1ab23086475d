#pragma once
// Image features for example selection: one fixed-length float vector per image, so that images that look
// alike (same anatomy, pose, contrast) lie close together in Euclidean distance.
//
// Feature kinds (`--features`):
//  - "thumbnail": the grey image resized to 32x32 (cv::INTER_AREA, aspect ratio not kept), z-score normalised
//    per image (mean 0, standard deviation 1, so brightness and contrast do not matter), scaled to unit
//    length. 1024 values. Captures the coarse layout of the image.
//  - "thumbnail-hist" (default): the thumbnail block plus a 32-bin intensity histogram of the full-resolution
//    grey image, square-rooted (Hellinger), which is unit length too. 1056 values. Both blocks weigh the same,
//    so images must agree in layout and in intensity distribution to be close.
//  - "sam": the SAM image embedding, each channel's mean and standard deviation over the image (not the
//    padding), standardised per column over the data set and scaled to unit length. 512 values (256-channel
//    models). Captures what the image shows rather than its layout; needs the model, so the pipeline computes
//    it (pipeline/select_features.h), not image_features().
// Each block has unit length, so distances between images are in [0, 2] per block whatever the image size.
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "io/dataset.h"

namespace sammpa {

enum class FeatureKind { Thumbnail, ThumbnailHist, Sam };

FeatureKind parse_feature_kind(const std::string& name);  // InputError("--features", ...) if unknown
std::string feature_kind_name(FeatureKind kind);
std::vector<std::string> feature_kind_names();

// One row of features (CV_32FC1, 1 x D) for a grey or RGB 8-bit image; InputError for FeatureKind::Sam.
cv::Mat image_features(const cv::Mat& image, FeatureKind kind);

// Features of every image of a dataset, N x D (CV_32FC1), row i for dataset.samples[i]. Reads the images in
// parallel (threads <= 0: all cores) with a progress bar; read errors propagate as InputError.
cv::Mat dataset_features(const Dataset& dataset, FeatureKind kind, int threads = 0);

}  // namespace sammpa
