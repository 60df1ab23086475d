#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include "select/kmeans.h"
#include "test_support.h"

using namespace sammpa;

namespace {

// `per` points around each of `centres`, Gaussian noise of sd `noise`; row order interleaves the clusters.
cv::Mat blobs(const std::vector<std::vector<double>>& centres, int per, double noise, uint64_t seed,
              std::vector<int>* truth = nullptr) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0, noise);
  const int d = static_cast<int>(centres[0].size());
  cv::Mat x(per * static_cast<int>(centres.size()), d, CV_32F);
  for (int i = 0; i < x.rows; ++i) {
    const int c = i % static_cast<int>(centres.size());
    if (truth) truth->push_back(c);
    for (int j = 0; j < d; ++j) x.at<float>(i, j) = static_cast<float>(centres[c][j] + g(rng));
  }
  return x;
}

}  // namespace

TEST(KMeans, RecoversWellSeparatedClusters) {
  std::vector<int> truth;
  cv::Mat x = blobs({{0, 0, 0, 0}, {10, 0, 0, 0}, {0, 10, 0, 0}, {0, 0, 10, 10}}, 25, 0.5, 3, &truth);
  for (uint64_t seed : {0, 1, 2, 3}) {
    KMeansResult r = kmeans(x, {4, seed, 300, 1});
    ASSERT_TRUE(r.converged);
    // The found partition equals the true one: a one-to-one map between found and true labels.
    std::map<int, int> found_to_true;
    std::set<int> used;
    for (int i = 0; i < x.rows; ++i) {
      auto [it, inserted] = found_to_true.emplace(r.labels[i], truth[i]);
      if (inserted) {
        EXPECT_TRUE(used.insert(truth[i]).second);
      }
      EXPECT_EQ(it->second, truth[i]) << "point " << i << " seed " << seed;
    }
    EXPECT_EQ(r.sizes, std::vector<size_t>(4, 25));
    for (int c = 0; c < 4; ++c) EXPECT_EQ(r.labels[r.medoids[c]], c);
    // Centroids are the cluster means.
    for (int c = 0; c < 4; ++c) {
      cv::Mat mean = cv::Mat::zeros(1, x.cols, CV_64F);
      for (int i = 0; i < x.rows; ++i)
        if (r.labels[i] == c) {
          cv::Mat row;
          x.row(i).convertTo(row, CV_64F);
          mean += row / 25.0;
        }
      EXPECT_LT(cv::norm(mean, r.centroids.row(c)), 1e-9);
    }
  }
}

TEST(KMeans, SameSeedSameResultWhateverTheThreads) {
  std::mt19937_64 rng(5);
  cv::Mat x(300, 16, CV_32F);
  cv::randu(x, 0, 1);
  KMeansResult a = kmeans(x, {7, 42, 300, 1});
  KMeansResult b = kmeans(x, {7, 42, 300, 2});
  KMeansResult c = kmeans(x, {7, 42, 300, 0});
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.labels, c.labels);
  EXPECT_EQ(a.medoids, b.medoids);
  EXPECT_EQ(cv::norm(a.centroids, b.centroids, cv::NORM_INF), 0);
}

TEST(KMeans, DifferentSeedsCanGiveDifferentClusterings) {
  cv::Mat x(200, 8, CV_32F);
  cv::theRNG().state = 11;
  cv::randu(x, 0, 1);  // no real cluster structure: the result depends on the seeding
  std::set<std::vector<size_t>> distinct;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    auto r = kmeans(x, {6, seed, 300, 1});
    auto m = r.medoids;
    std::sort(m.begin(), m.end());
    distinct.insert(m);
  }
  EXPECT_GT(distinct.size(), 1u);
}

TEST(KMeans, EveryClusterIsNonEmptyEvenWithDuplicatePoints) {
  cv::Mat x(10, 2, CV_32F, cv::Scalar(1));  // ten copies of one point, then three distinct ones
  x.at<float>(0, 0) = 5;
  x.at<float>(1, 0) = 9;
  x.at<float>(2, 1) = -4;
  for (int k : {1, 4, 7, 10}) {
    auto r = kmeans(x, {k, 0, 300, 1});
    EXPECT_EQ(std::count(r.sizes.begin(), r.sizes.end(), 0u), 0) << "k=" << k;
    EXPECT_EQ(std::set<size_t>(r.medoids.begin(), r.medoids.end()).size(), static_cast<size_t>(k));
    for (int c = 0; c < k; ++c) EXPECT_EQ(r.labels[r.medoids[c]], c);
  }
}

TEST(KMeans, KOutsideOneToNIsRejected) {
  cv::Mat x(5, 3, CV_32F, cv::Scalar(0));
  EXPECT_THROW(kmeans(x, {0, 0, 300, 1}), std::invalid_argument);
  EXPECT_THROW(kmeans(x, {6, 0, 300, 1}), std::invalid_argument);
  EXPECT_NO_THROW(kmeans(x, {5, 0, 300, 1}));
}

TEST(KMeans, Uniform01IsInUnitInterval) {
  EXPECT_EQ(uniform01(0), 0.0);
  EXPECT_LT(uniform01(~0ULL), 1.0);
  EXPECT_GT(uniform01(~0ULL), 0.999999);
}
