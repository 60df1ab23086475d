#pragma once
// Steps 3 and 4 over a dataset: each query image is encoded once (its SAM embedding is cached as
// NAME.samemb and reused by later runs), prompted from its coarse mask and soft map, and refined. Writes
// masks/NAME.png (final masks), prompts/NAME.json (every prompt given to SAM) and, if asked, overlay/NAME.png.
#include <filesystem>
#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/dataset.h"
#include "refine/segment.h"
#include "sam/predictor.h"

namespace sammpa {

struct CoarseInput {
  cv::Mat coarse;  // CV_8UC1 0/255
  cv::Mat soft;    // CV_32FC1 [0, 1], CV_8UC1 0-255, or empty
};

struct SegmentOptions {
  PromptOptions prompt;
  RefineOptions refine;
  std::filesystem::path checkpoint;  // empty: sam::default_checkpoint()
  // Embedding cache: NAME.samemb files are read from here when they match the model and the image, and
  // missing ones are written here. Empty: no cache.
  std::filesystem::path embeddings;
  // A read-only earlier cache (an earlier run's embeddings/ folder): matching files are hard-linked (or
  // copied) into `embeddings` instead of being recomputed.
  std::filesystem::path previous_embeddings;
  bool overlays = true;
  // Per-query records for resuming a killed run (pipeline/resume.h): a query with a record here is kept as
  // it is (its files are already in out_root); each query computed gets one, written after its files.
  std::filesystem::path records;
  // Replaces prompts + SAM + refinement for each query when set (the ranked mode): the predictor holds the
  // query's embedding; the query's name, its image as read, its coarse mask and soft map.
  std::function<QuerySegmentation(const sam::SamPredictor&, const std::string&, const cv::Mat&, const CoarseInput&)>
      segment_one;
};

struct SegmentedQuery {
  std::string name;
  QuerySegmentation result;
  bool embedding_reused = false;
  double seconds = 0;  // encoder (unless reused) + prompts + SAM + refinement
  nlohmann::json record;  // its entry in segment.json (the only part kept of a query resumed from a record)
};

struct SegmentRun {
  std::string checkpoint, model_type;
  std::vector<SegmentedQuery> queries;
  size_t embeddings_reused = 0;
  size_t resumed = 0;  // queries kept from an interrupted run's records
  double seconds_load = 0, seconds_encode = 0, seconds_decode = 0, seconds = 0;
};

// An embedding cache folder names the checkpoint its embeddings came from (file name and size) in this file:
// embeddings of another checkpoint of the same model type are never mixed in.
inline constexpr const char* kEmbeddingCacheId = "checkpoint.txt";
std::string checkpoint_identity(const std::filesystem::path& checkpoint);
// Creates `dir` if needed and records the checkpoint in it; InputError if it holds another checkpoint's.
void claim_embedding_cache(const std::filesystem::path& dir, const std::filesystem::path& checkpoint);

// Sets the predictor's embedding of `image` from `cache`/NAME.samemb (or `previous`, linked into `cache`) when it
// matches the model and the image, else runs the encoder and saves the result into `cache` (if given). The
// caller has claimed `cache` (claim_embedding_cache). Returns whether a cached embedding was used.
bool set_cached_embedding(sam::SamPredictor& predictor, const cv::Mat& image, const std::string& name,
                          const std::filesystem::path& cache, const std::filesystem::path& previous);

// The model of options.checkpoint (or the default one) with options.embeddings claimed as its cache and
// options.previous_embeddings kept only when it holds this checkpoint's embeddings.
struct EmbeddingSource {
  std::filesystem::path checkpoint, cache, previous;
  std::shared_ptr<const sam::SamModel> model;
  double seconds_load = 0;
  bool set(sam::SamPredictor& predictor, const cv::Mat& image, const std::string& name) const {
    return set_cached_embedding(predictor, image, name, cache, previous);
  }
};
EmbeddingSource open_embedding_source(const SegmentOptions& options);

// The supports' embeddings (through `source`, cached) and their masks at image size; `tick` after each.
void embed_supports(const Dataset& data, const std::vector<std::string>& support, const EmbeddingSource& source,
                    sam::SamPredictor& predictor, std::vector<sam::ImageEmbedding>& embeddings,
                    std::vector<cv::Mat>& masks, const std::function<void()>& tick);

// `coarse_of(name)` gives a query's coarse mask and soft map (image size). Files go under `out_root`.
SegmentRun segment_dataset(const Dataset& data, const std::vector<std::string>& queries,
                           const std::function<CoarseInput(const std::string&)>& coarse_of,
                           const SegmentOptions& options, const std::filesystem::path& out_root);

nlohmann::json to_json(const SegmentRun& run, const SegmentOptions& options);

}  // namespace sammpa
