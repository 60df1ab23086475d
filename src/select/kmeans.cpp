#include "select/kmeans.h"

#include <algorithm>
#include <limits>
#include <random>
#include <stdexcept>

#include "common/parallel.h"

namespace sammpa {
namespace {

double squared_distance(const double* a, const double* b, int d) {
  double s = 0;
  for (int j = 0; j < d; ++j) {
    const double t = a[j] - b[j];
    s += t * t;
  }
  return s;
}

// k-means++: the first centre uniformly, each next one with probability proportional to the squared
// distance to the nearest centre chosen so far.
cv::Mat seed_centres(const cv::Mat& x, int k, std::mt19937_64& rng) {
  const int n = x.rows, d = x.cols;
  cv::Mat centres(k, d, CV_64F);
  std::vector<double> nearest(n, std::numeric_limits<double>::max());
  std::vector<bool> chosen(n, false);
  size_t pick = static_cast<size_t>(uniform01(rng()) * n);
  for (int c = 0; c < k; ++c) {
    if (c > 0) {
      double total = 0;
      for (int i = 0; i < n; ++i) total += chosen[i] ? 0 : nearest[i];
      if (total > 0) {
        double r = uniform01(rng()) * total;
        pick = n;
        for (int i = 0; i < n; ++i) {
          if (chosen[i] || nearest[i] <= 0) continue;
          pick = i;  // the last candidate absorbs rounding at the top end
          if ((r -= nearest[i]) < 0) break;
        }
      } else {  // every remaining point duplicates a centre: take the first unchosen one
        pick = std::find(chosen.begin(), chosen.end(), false) - chosen.begin();
      }
    }
    chosen[pick] = true;
    x.row(static_cast<int>(pick)).copyTo(centres.row(c));
    for (int i = 0; i < n; ++i)
      nearest[i] = std::min(nearest[i], squared_distance(x.ptr<double>(i), centres.ptr<double>(c), d));
  }
  return centres;
}

// Nearest centre of each point (ties: lower index); returns the squared distances.
std::vector<double> assign(const cv::Mat& x, const cv::Mat& centres, std::vector<int>& labels, int threads) {
  const int n = x.rows, d = x.cols, k = centres.rows;
  std::vector<double> dist(n);
  constexpr int kChunk = 32;
  parallel_for((n + kChunk - 1) / kChunk, threads, [&](size_t chunk) {
    const int end = std::min(n, static_cast<int>(chunk + 1) * kChunk);
    for (int i = static_cast<int>(chunk) * kChunk; i < end; ++i) {
      double best = std::numeric_limits<double>::max();
      int best_c = 0;
      for (int c = 0; c < k; ++c) {
        const double s = squared_distance(x.ptr<double>(i), centres.ptr<double>(c), d);
        if (s < best) best = s, best_c = c;
      }
      labels[i] = best_c;
      dist[i] = best;
    }
  });
  return dist;
}

// Gives every empty cluster the point farthest from its centre among clusters that can spare one.
void fill_empty_clusters(std::vector<int>& labels, std::vector<double>& dist, int k) {
  std::vector<size_t> sizes(k, 0);
  for (int l : labels) ++sizes[l];
  for (int c = 0; c < k; ++c) {
    if (sizes[c] > 0) continue;
    int far = -1;
    for (size_t i = 0; i < labels.size(); ++i)
      if (sizes[labels[i]] > 1 && (far < 0 || dist[i] > dist[far])) far = static_cast<int>(i);
    --sizes[labels[far]];  // k <= n guarantees a cluster with two or more points
    labels[far] = c;
    dist[far] = 0;
    sizes[c] = 1;
  }
}

cv::Mat mean_of_clusters(const cv::Mat& x, const std::vector<int>& labels, int k) {
  cv::Mat sums = cv::Mat::zeros(k, x.cols, CV_64F);
  std::vector<double> count(k, 0);
  for (int i = 0; i < x.rows; ++i) {
    double* s = sums.ptr<double>(labels[i]);
    const double* p = x.ptr<double>(i);
    for (int j = 0; j < x.cols; ++j) s[j] += p[j];
    count[labels[i]] += 1;
  }
  for (int c = 0; c < k; ++c) sums.row(c) /= count[c];
  return sums;
}

}  // namespace

double uniform01(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

KMeansResult kmeans(const cv::Mat& points, const KMeansOptions& opt) {
  if (points.empty() || points.channels() != 1) throw std::invalid_argument("kmeans: no points");
  if (opt.k < 1 || opt.k > points.rows)
    throw std::invalid_argument("kmeans: k=" + std::to_string(opt.k) + " with " + std::to_string(points.rows) +
                                " points");
  cv::Mat x;
  points.convertTo(x, CV_64F);
  const int n = x.rows, k = opt.k;
  std::mt19937_64 rng(opt.seed);

  KMeansResult r;
  r.centroids = seed_centres(x, k, rng);
  r.labels.assign(n, -1);
  std::vector<double> dist;
  for (r.iterations = 1; r.iterations <= opt.max_iterations; ++r.iterations) {
    std::vector<int> previous = r.labels;
    dist = assign(x, r.centroids, r.labels, opt.threads);
    fill_empty_clusters(r.labels, dist, k);
    r.converged = r.labels == previous;
    if (!r.converged) r.centroids = mean_of_clusters(x, r.labels, k);
    if (r.converged) break;
  }
  r.iterations = std::min(r.iterations, opt.max_iterations);
  // The final labels and centroids belong together: recompute distances to the final centroids.
  dist = assign(x, r.centroids, r.labels, opt.threads);
  fill_empty_clusters(r.labels, dist, k);

  r.sizes.assign(k, 0);
  r.medoids.assign(k, 0);
  std::vector<double> best(k, std::numeric_limits<double>::max());
  r.inertia = 0;
  for (int i = 0; i < n; ++i) {
    const int c = r.labels[i];
    ++r.sizes[c];
    const double s = squared_distance(x.ptr<double>(i), r.centroids.ptr<double>(c), x.cols);
    r.inertia += s;
    if (s < best[c]) best[c] = s, r.medoids[c] = i;
  }
  return r;
}

}  // namespace sammpa
