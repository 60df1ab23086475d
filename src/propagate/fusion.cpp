#include "propagate/fusion.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "common/error.h"

namespace sammpa {

Fusion parse_fusion(const std::string& name) {
  for (Fusion f : all_fusions())
    if (fusion_name(f) == name) return f;
  throw InputError("--fusion", "unknown fusion rule '" + name + "' (vote|best|majority|local)");
}

std::string fusion_name(Fusion f) {
  switch (f) {
    case Fusion::best: return "best";
    case Fusion::vote: return "vote";
    case Fusion::majority: return "majority";
    case Fusion::local: return "local";
  }
  return "?";
}

std::vector<Fusion> all_fusions() { return {Fusion::vote, Fusion::best, Fusion::majority, Fusion::local}; }

std::vector<double> vote_weights(const std::vector<double>& s, double temperature) {
  double top = *std::max_element(s.begin(), s.end());
  std::vector<double> w(s.size());
  for (size_t i = 0; i < s.size(); ++i) w[i] = std::exp((s[i] - top) / std::max(temperature, 1e-6));
  return w;
}

namespace {

cv::Mat standardised(const cv::Mat& image) {
  cv::Scalar m, sd;
  cv::meanStdDev(image, m, sd);
  cv::Mat out;
  image.convertTo(out, CV_32F, 1.0 / std::max(sd[0], 1e-6), -m[0] / std::max(sd[0], 1e-6));
  return out;
}

}  // namespace

std::vector<cv::Mat> local_weights(const cv::Mat& query, const std::vector<cv::Mat>& warped, const LocalWeights& o) {
  const cv::Mat q = standardised(query);
  const cv::Size patch(2 * o.radius + 1, 2 * o.radius + 1);
  std::vector<cv::Mat> d(warped.size());
  cv::Mat lowest;
  double total = 0;
  for (size_t i = 0; i < warped.size(); ++i) {
    cv::Mat diff = q - standardised(warped[i]);
    cv::boxFilter(diff.mul(diff), d[i], CV_32F, patch, {-1, -1}, true, cv::BORDER_REFLECT);
    lowest = i == 0 ? d[i].clone() : cv::min(lowest, d[i]);
    total += cv::mean(d[i])[0];
  }
  const double h = std::max(o.scale * total / std::max<size_t>(1, warped.size()), 1e-6);
  for (auto& m : d) {
    cv::Mat e = (lowest - m) * (1.0 / h);
    cv::exp(e, m);
  }
  return d;
}

Fused fuse(const std::vector<cv::Mat>& soft_masks, const std::vector<double>& similarity, Fusion rule,
           double temperature, const std::vector<cv::Mat>& local) {
  CV_Assert(!soft_masks.empty() && soft_masks.size() == similarity.size());
  Fused out;
  out.chosen = static_cast<int>(std::max_element(similarity.begin(), similarity.end()) - similarity.begin());
  if (rule == Fusion::best) {
    out.soft = soft_masks[out.chosen].clone();
  } else {
    std::vector<double> w = rule == Fusion::majority ? std::vector<double>(soft_masks.size(), 1.0)
                                                     : vote_weights(similarity, temperature);
    if (rule == Fusion::local) {
      if (local.size() != soft_masks.size()) throw InputError("--fusion local", "needs one weight map per support");
      const cv::Size size = soft_masks[0].size();
      cv::Mat total = cv::Mat::zeros(size, CV_32F);
      out.soft = cv::Mat::zeros(size, CV_32F);
      for (size_t i = 0; i < soft_masks.size(); ++i) {
        cv::Mat wi;
        cv::resize(local[i], wi, size, 0, 0, cv::INTER_LINEAR);
        wi *= w[i];
        out.soft += wi.mul(soft_masks[i]);
        total += wi;
      }
      cv::divide(out.soft, cv::max(total, 1e-12), out.soft);
    } else {
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
  }
  out.mask = out.soft >= 0.5f - 1e-6f;
  return out;
}

}  // namespace sammpa
