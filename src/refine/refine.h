#pragma once
// Step 4's post-refinement: SAM's candidate masks for one object -> the object's final mask. The rules are
// plain functions of the candidates and the coarse object, so that each can be tested on constructed masks:
//   choose   a candidate by SAM's predicted IoU, by its agreement (Dice) with the coarse object, or by both;
//   clean    drop components that do not touch the coarse object, fill holes;
//   fall back to the coarse object when SAM's answer is implausible (low agreement, an area far from the
//            coarse object's, a very low predicted IoU).
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sammpa {

enum class CandidateChoice { iou, agreement, product };
enum class Combine { sam, average };

struct RefineOptions {
  // Defaults measured on real coarse masks (docs/PIPELINE.md): SAM's single-mask output alone, no re-prompting.
  bool single = true;        // SAM's single-mask output is a candidate
  bool multimask = false;    // SAM's 3 multimask outputs are candidates
  CandidateChoice choice = CandidateChoice::product;  // product: predicted IoU x agreement with the coarse object
  int rounds = 0;            // re-prompt with the chosen candidate's low-res logits (same points and box)
  bool keep_touching = true;  // drop components that do not overlap the coarse object
  bool fill_holes = true;
  double min_agreement = 0.5;    // Dice(candidate, coarse object) below this: keep the coarse object
  double min_area_ratio = 0.5;   // candidate area / coarse object area outside [min, max]: keep the coarse object
  double max_area_ratio = 2.0;
  double min_iou = 0.5;          // SAM's predicted IoU below this: keep the coarse object
  Combine combine = Combine::sam;  // average: final = mean of SAM's probability and the soft map > 0.5
};

struct Candidate {
  cv::Mat mask;          // CV_8UC1 0/255, image size
  float iou = 0;         // SAM's predicted IoU
  std::string source;    // e.g. "single", "multi1", "round1"
  double agreement = 0;  // Dice with the coarse object (filled by score_candidates)
};

void score_candidates(std::vector<Candidate>& candidates, const cv::Mat& object);
// Index of the chosen candidate (ties: the first); -1 if there is none.
int choose_candidate(const std::vector<Candidate>& candidates, CandidateChoice choice);
// Empty string when plausible, else why not.
std::string implausible(const Candidate& candidate, const cv::Mat& object, const RefineOptions& options);
// Components that do not overlap `object` removed (if keep_touching), holes filled (if fill_holes).
cv::Mat clean_mask(const cv::Mat& mask, const cv::Mat& object, const RefineOptions& options);

CandidateChoice parse_candidate_choice(const std::string& name);  // InputError if unknown
std::string candidate_choice_name(CandidateChoice c);
Combine parse_combine(const std::string& name);
std::string combine_name(Combine c);
nlohmann::json to_json(const RefineOptions& options);

}  // namespace sammpa
