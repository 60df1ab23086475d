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

// soft_masks: CV_32F in [0, 1], all the same size; similarity: one per mask. Deterministic; ties in
// `best` go to the lowest index.
Fused fuse(const std::vector<cv::Mat>& soft_masks, const std::vector<double>& similarity, Fusion rule,
           double temperature = 0.05);

}  // namespace sammpa
