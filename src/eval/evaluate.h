#pragma once
// Scoring a folder of predicted masks (PRED/NAME.png, or any image format read_mask knows) against a
// dataset's ground-truth masks. Only query images are scored: support images (the annotated examples) are
// skipped. Errors (InputError naming the file): a query with no prediction (unless missing_as_empty), no
// ground-truth mask, a prediction whose size differs from the ground truth, a support name not in the dataset.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/metrics.h"
#include "io/dataset.h"

namespace sammpa {

struct EvalOptions {
  std::filesystem::path pred_dir;
  std::vector<std::string> support;         // names never scored
  bool missing_as_empty = false;            // a query without prediction counts as an empty prediction
  bool group_by_prefix = false;             // group = name_prefix_group (BUSI: benign, malignant, normal)
  std::vector<std::string> exclude_groups;  // left out of the overall summary, still reported per group
  int threads = 0;                          // <= 0: all cores
};

struct ImageScore {
  std::string name;
  std::string group;  // "all" unless group_by_prefix
  MaskScores scores;
  bool missing_prediction = false;
};

struct ScoreSummary {
  Summary dice, iou, hd95;  // hd95.undefined counts images where HD95 is undefined
};

struct EvalReport {
  std::vector<ImageScore> images;                            // query images, by name
  ScoreSummary overall;                                      // every image except excluded groups
  std::vector<std::pair<std::string, ScoreSummary>> groups;  // by group name (only with group_by_prefix)
  std::vector<std::string> excluded_groups;
  size_t support_skipped = 0;
  size_t missing_predictions = 0;
};

// Up to the first '_', ' ' or '(' ("benign_001" and the original BUSI's "benign (1)": benign); the whole name
// if none.
std::string name_prefix_group(const std::string& name);

EvalReport evaluate(const Dataset& dataset, const EvalOptions& options);
ScoreSummary summarize_scores(const std::vector<const ImageScore*>& images);

nlohmann::json report_json(const EvalReport& report);  // per-image rows and summaries (NaN/undefined: null)
std::string report_csv(const EvalReport& report);      // name,group,dice,iou,hd95 (undefined hd95: empty)
std::string report_table(const EvalReport& report);    // a short human-readable summary

}  // namespace sammpa
