#pragma once
// Step 1 of SAM-MPA: choose the K images a person annotates (the support set).
//  - kcentroid: k-means over image features (features.h); each cluster's member closest to its centroid is
//    its representative. Support names are listed by cluster size, largest first (ties by name).
//  - random: K names drawn uniformly without replacement (the baseline), listed by name.
// Both are deterministic for a given seed.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/dataset.h"
#include "select/features.h"

namespace sammpa {

enum class SelectStrategy { KCentroid, Random };
SelectStrategy parse_select_strategy(const std::string& name);  // InputError("--strategy", ...) if unknown
std::string select_strategy_name(SelectStrategy strategy);

struct SelectOptions {
  SelectStrategy strategy = SelectStrategy::KCentroid;
  int k = 5;
  uint64_t seed = 0;
  FeatureKind features = FeatureKind::ThumbnailHist;
  int threads = 0;  // <= 0: all cores
};

struct Selection {
  std::vector<std::string> support;   // K distinct names
  std::vector<size_t> cluster_sizes;  // kcentroid: size of each support image's cluster; random: empty
  std::vector<int> cluster_of;        // kcentroid: per dataset sample, index into `support`; random: empty
  int iterations = 0;                 // Lloyd iterations (kcentroid)
  double inertia = 0;                 // kcentroid: the clustering's sum of squared distances to the centroids
  // Per support, the images a person annotates instead, in order, should it prove unusable (it shows no
  // object): kcentroid, the other members of its cluster by distance to the centroid; random, the next draws
  // of the same shuffle, dealt out in turn. At most kAlternates each.
  std::vector<std::vector<std::string>> alternates;
};
inline constexpr size_t kAlternates = 10;

// InputError if k < 1 or k is larger than the number of images, or an image cannot be read.
Selection select_examples(const Dataset& dataset, const SelectOptions& options);
// The same with the k-centroid features given (N x D, CV_32FC1, row i for dataset.samples[i]), for features
// this library cannot compute itself (FeatureKind::Sam).
Selection select_examples(const Dataset& dataset, const SelectOptions& options, const cv::Mat& features);
std::vector<std::string> select_support(const Dataset& dataset, const SelectOptions& options);

// {"strategy", "k", "seed", "features", "support", "cluster_sizes", "inertia", "alternates", "dataset"}
// (features and inertia null for random selection)
nlohmann::json selection_json(const Dataset& dataset, const SelectOptions& options, const Selection& selection);

// Writes json_file (must end in .json) and the same path with .txt (one name per line), each atomically;
// if the second write fails the first file is removed again.
void write_selection(const std::filesystem::path& json_file, const nlohmann::json& selection);

}  // namespace sammpa
