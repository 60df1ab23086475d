#include "propagate/fusion.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "common/error.h"

namespace sammpa {

Fusion parse_fusion(const std::string& name) {
  for (Fusion f : all_fusions())
    if (fusion_name(f) == name) return f;
  throw InputError("--fusion", "unknown fusion rule '" + name + "' (vote|best|majority)");
}

std::string fusion_name(Fusion f) {
  switch (f) {
    case Fusion::best: return "best";
    case Fusion::vote: return "vote";
    case Fusion::majority: return "majority";
  }
  return "?";
}

std::vector<Fusion> all_fusions() { return {Fusion::vote, Fusion::best, Fusion::majority}; }

std::vector<double> vote_weights(const std::vector<double>& s, double temperature) {
  double top = *std::max_element(s.begin(), s.end());
  std::vector<double> w(s.size());
  for (size_t i = 0; i < s.size(); ++i) w[i] = std::exp((s[i] - top) / std::max(temperature, 1e-6));
  return w;
}

Fused fuse(const std::vector<cv::Mat>& soft_masks, const std::vector<double>& similarity, Fusion rule,
           double temperature) {
  CV_Assert(!soft_masks.empty() && soft_masks.size() == similarity.size());
  Fused out;
  out.chosen = static_cast<int>(std::max_element(similarity.begin(), similarity.end()) - similarity.begin());
  if (rule == Fusion::best) {
    out.soft = soft_masks[out.chosen].clone();
  } else {
    std::vector<double> w = rule == Fusion::vote ? vote_weights(similarity, temperature)
                                                 : std::vector<double>(soft_masks.size(), 1.0);
    double total = 0;
    out.soft = cv::Mat::zeros(soft_masks[0].size(), CV_32F);
    for (size_t i = 0; i < soft_masks.size(); ++i) {
      cv::Mat term = soft_masks[i];
      if (rule == Fusion::majority) {  // each support votes with its binary mask
        cv::Mat binary;
        cv::threshold(term, binary, 0.5 - 1e-6, 1.0, cv::THRESH_BINARY);
        term = binary;
      }
      cv::scaleAdd(term, w[i], out.soft, out.soft);
      total += w[i];
    }
    out.soft *= 1.0 / total;
  }
  out.mask = out.soft >= 0.5f - 1e-6f;
  return out;
}

}  // namespace sammpa
