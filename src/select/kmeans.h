#pragma once
// k-means (k-centroid) clustering of feature rows: k-means++ seeding, then Lloyd iterations until no point
// changes cluster. Deterministic for a given seed, whatever the number of threads: random draws use
// std::mt19937_64 with our own uniform mapping (not std::uniform_*_distribution, whose output differs
// between standard libraries), ties go to the lower index, and sums run in a fixed order.
#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

namespace sammpa {

struct KMeansOptions {
  int k = 5;
  uint64_t seed = 0;
  int max_iterations = 300;
  int threads = 0;  // <= 0: all cores
};

struct KMeansResult {
  cv::Mat centroids;             // k x D, CV_64FC1
  std::vector<int> labels;       // cluster of each point, in [0, k)
  std::vector<size_t> sizes;     // points per cluster; every cluster is non-empty
  std::vector<size_t> medoids;   // per cluster: index of its member closest to the centroid (distinct)
  double inertia = 0;            // sum of squared distances of points to their centroids
  int iterations = 0;
  bool converged = false;
};

// points: N x D, CV_32FC1 or CV_64FC1, with 1 <= k <= N (std::invalid_argument otherwise).
KMeansResult kmeans(const cv::Mat& points, const KMeansOptions& options);

// A uniform double in [0, 1) from 53 random bits: the same on every platform.
double uniform01(uint64_t random_bits);

}  // namespace sammpa
