#include "refine/refine.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "eval/metrics.h"

namespace sammpa {

void score_candidates(std::vector<Candidate>& candidates, const cv::Mat& object) {
  for (auto& c : candidates) c.agreement = dice_score(c.mask, object);
}

int choose_candidate(const std::vector<Candidate>& candidates, CandidateChoice choice) {
  int best = -1;
  double best_score = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto& c = candidates[i];
    const double s = choice == CandidateChoice::iou         ? c.iou
                     : choice == CandidateChoice::agreement ? c.agreement
                                                            : c.iou * c.agreement;
    if (best < 0 || s > best_score) best = static_cast<int>(i), best_score = s;
  }
  return best;
}

std::string implausible(const Candidate& c, const cv::Mat& object, const RefineOptions& o) {
  const double area = cv::countNonZero(c.mask), ref = cv::countNonZero(object);
  if (area == 0) return "empty";
  if (c.agreement < o.min_agreement) return "agreement";
  if (ref > 0 && (area / ref < o.min_area_ratio || area / ref > o.max_area_ratio)) return "area";
  if (c.iou < o.min_iou) return "iou";
  return "";
}

cv::Mat clean_mask(const cv::Mat& mask, const cv::Mat& object, const RefineOptions& o) {
  cv::Mat out = mask > 0;
  if (o.keep_touching) {
    cv::Mat labels;
    const int n = cv::connectedComponents(out, labels, 8, CV_32S);
    std::vector<char> keep(n, 0);
    for (int y = 0; y < out.rows; ++y) {
      const int* l = labels.ptr<int>(y);
      const uchar* ob = object.ptr<uchar>(y);
      for (int x = 0; x < out.cols; ++x)
        if (l[x] > 0 && ob[x]) keep[l[x]] = 1;
    }
    for (int y = 0; y < out.rows; ++y) {
      const int* l = labels.ptr<int>(y);
      uchar* m = out.ptr<uchar>(y);
      for (int x = 0; x < out.cols; ++x) m[x] = keep[l[x]] ? 255 : 0;
    }
  }
  if (o.fill_holes) {
    // Background reachable from the border stays background; everything else becomes foreground.
    cv::Mat padded;
    cv::copyMakeBorder(out, padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, 0);
    cv::floodFill(padded, cv::Point(0, 0), 128);
    cv::Mat inner = padded(cv::Rect(1, 1, out.cols, out.rows));
    out = inner != 128;
  }
  return out;
}

CandidateChoice parse_candidate_choice(const std::string& n) {
  if (n == "iou") return CandidateChoice::iou;
  if (n == "agreement") return CandidateChoice::agreement;
  if (n == "product") return CandidateChoice::product;
  throw InputError("--choose", "unknown rule '" + n + "' (iou, agreement, product)");
}

std::string candidate_choice_name(CandidateChoice c) {
  return c == CandidateChoice::iou ? "iou" : c == CandidateChoice::agreement ? "agreement" : "product";
}

Combine parse_combine(const std::string& n) {
  if (n == "sam") return Combine::sam;
  if (n == "average") return Combine::average;
  throw InputError("--combine", "unknown rule '" + n + "' (sam, average)");
}

std::string combine_name(Combine c) { return c == Combine::sam ? "sam" : "average"; }

nlohmann::json to_json(const RefineOptions& o) {
  return {{"single", o.single},
          {"multimask", o.multimask},
          {"choice", candidate_choice_name(o.choice)},
          {"rounds", o.rounds},
          {"keep_touching", o.keep_touching},
          {"fill_holes", o.fill_holes},
          {"min_agreement", o.min_agreement},
          {"min_area_ratio", o.min_area_ratio},
          {"max_area_ratio", o.max_area_ratio},
          {"min_iou", o.min_iou},
          {"combine", combine_name(o.combine)}};
}

}  // namespace sammpa
