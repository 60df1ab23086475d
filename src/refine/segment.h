#pragma once
// Steps 3 and 4 for one query image whose SAM embedding is set in a predictor: prompts from the coarse mask
// and soft map (src/prompt), SAM's candidates for each object, the refinement rules (refine.h), and the
// union of the objects as the final mask.
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "prompt/prompt.h"
#include "refine/refine.h"
#include "sam/predictor.h"

namespace sammpa {

struct ObjectResult {
  ObjectPrompt prompt;
  cv::Mat mask;            // CV_8UC1 0/255: this object's final mask
  std::string source;      // the chosen candidate, or "coarse" when the coarse object was kept
  std::string fallback;    // why the coarse object was kept ("" when SAM's answer was used)
  float iou = 0;           // SAM's predicted IoU of the chosen candidate
  double agreement = 0;    // Dice of the chosen candidate with the coarse object
  std::vector<Candidate> candidates;  // every candidate SAM gave (masks released after the choice)
};

struct QuerySegmentation {
  cv::Mat mask;  // CV_8UC1 0/255, image size: the union of the objects (empty if the coarse mask was)
  std::vector<ObjectResult> objects;
  // Set when a ranker answered "no object": its best candidate's score and the threshold it fell below.
  std::optional<std::pair<double, double>> answered_empty;
  // With answered_empty: the mask the query would have got otherwise (CV_8UC1 0/255, image size), kept for a
  // person to check the "no object" answer (OUT/declined/, outlined in the overlay).
  cv::Mat declined;
  // The pipeline's own confidence, for sorting results a person should check: the mean over objects of
  // predicted IoU x agreement (0 for a fallback or an empty result).
  double confidence() const;
};

// coarse: CV_8UC1; soft: CV_32FC1 [0, 1] or CV_8UC1 0-255 (or empty); both of the predictor's image size.
QuerySegmentation segment_query(const sam::SamPredictor& predictor, const cv::Mat& coarse, const cv::Mat& soft,
                                const PromptOptions& prompt, const RefineOptions& refine);

// Every prompt given to SAM (image pixels) and what the refinement did with each object.
nlohmann::json to_json(const QuerySegmentation& result, const PromptOptions& prompt);

}  // namespace sammpa
