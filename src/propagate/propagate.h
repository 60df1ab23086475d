#pragma once
// Step 2 of SAM-MPA over a dataset: register every support image to every query image, warp the support
// masks to the query, fuse them into a coarse mask and a soft map per query.
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <opencv2/core.hpp>

#include "io/dataset.h"
#include "propagate/fusion.h"
#include "propagate/register.h"

namespace sammpa {

struct QueryResult;

struct PropagateOptions {
  RegistrationOptions registration;
  Fusion fusion = Fusion::vote;
  double temperature = 0.05;  // of the `vote` weights, in units of normalised cross-correlation
  LocalWeights local;         // of the `local` fusion
  int top = 0;                // deformably register only the M supports most similar after the affine stage (0 = all)
  int threads = 0;            // queries in parallel (0 = all cores); ITK itself runs single-threaded
  bool all_fusions = false;   // also write coarse_<rule>/ for every rule
  bool oracle = false;        // also write coarse_oracle/: the warped support mask closest to the query's own mask
  bool score = false;         // Dice of each rule against the query's own mask, where there is one
  std::vector<std::string> queries;  // empty: every image that is not a support
  // Called once per query (from worker threads, each query once) with its coarse mask (CV_8UC1 0/255) and
  // float soft map (CV_32FC1 in [0, 1]) at the image's size, so that the next step gets them in memory.
  std::function<void(const std::string& name, const cv::Mat& coarse, const cv::Mat& soft)> on_query;
  // Called once per query (from worker threads) when everything of that query is done and written.
  std::function<void(const QueryResult& query)> on_done;
};

struct SupportResult {
  std::string name;
  double affine_similarity = 0;  // NCC after the affine stage (used by --top)
  std::optional<double> similarity;  // NCC after the full registration (absent if not registered deformably)
  std::optional<double> dice;        // of the warped mask vs the query's own mask (--score/--oracle)
};

struct QueryResult {
  std::string name;
  std::vector<SupportResult> supports;
  std::string chosen;  // the most similar support
  double seconds = 0;
  std::map<std::string, double> dice;  // per fusion rule (and "oracle"), when scored
};

struct PropagationRun {
  std::vector<std::string> support;
  std::vector<QueryResult> queries;
  size_t pairs_affine = 0, pairs_deformable = 0;
  double seconds = 0;  // wall time of the whole run
};

// Checks everything first (InputError naming the file and problem): supports present in the dataset and
// with masks of the image's size; queries present. Then writes into `out_root` (an OutputDir's staging
// folder): coarse/NAME.png, soft/NAME.png and, if asked, coarse_<rule>/NAME.png.
PropagationRun propagate_dataset(const Dataset& data, const std::vector<std::string>& support,
                                 const PropagateOptions& opt, const std::filesystem::path& out_root);

nlohmann::json to_json(const PropagationRun& run, const PropagateOptions& opt);

}  // namespace sammpa
