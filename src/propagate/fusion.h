#pragma once
// Fusing the K warped support masks of one query into one coarse mask and a soft (probability) map.
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace sammpa {

enum class Fusion {
  best,      // the support most similar to the query after registration
  vote,      // similarity-weighted mean of the soft masks, thresholded at 0.5
  majority,  // plain mean of the binarised masks, thresholded at 0.5 (ties count as foreground)
  local,     // `vote`, with each support's weight also varying over the image: high where the warped support
             // image matches the query locally (LocalWeights), so each region follows the supports aligned there
};
Fusion parse_fusion(const std::string& name);  // InputError on an unknown name
std::string fusion_name(Fusion f);
std::vector<Fusion> all_fusions();

struct Fused {
  cv::Mat soft;  // CV_32F in [0, 1]
  cv::Mat mask;  // CV_8U, 0 or 255
  int chosen;    // index of the most similar support (argmax of similarity)
};

// Weights of `vote`: exp((s_i - max s) / temperature), so supports much less similar than the best fade out.
std::vector<double> vote_weights(const std::vector<double>& similarity, double temperature);

// `local`'s per-pixel factor for support i: exp(-(D_i - min_j D_j) / (scale * mean D)), D_i the mean squared
// difference of the query and the warped support image (each standardised) over a (2 radius + 1)^2 patch.
struct LocalWeights {
  int radius = 2;      // working-grid pixels
  double scale = 1.0;  // of the mean patch difference: smaller trusts the locally best support more
};
// Per support, the factor of LocalWeights on the working grid (CV_32F); query and warped: CV_32F working images.
std::vector<cv::Mat> local_weights(const cv::Mat& query, const std::vector<cv::Mat>& warped, const LocalWeights& o);

// soft_masks: CV_32F in [0, 1], all the same size; similarity: one per mask; local: local_weights() (any size,
// resized to the masks'), needed by `local` only. Deterministic; ties in `best` go to the lowest index.
Fused fuse(const std::vector<cv::Mat>& soft_masks, const std::vector<double>& similarity, Fusion rule,
           double temperature = 0.05, const std::vector<cv::Mat>& local = {});

}  // namespace sammpa
