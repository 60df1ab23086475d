#pragma once
// The whole of SAM-MPA on a dataset folder, as one library call: select the support set (step 1), propagate
// its masks to every query (step 2, coarse masks and soft maps handed on in memory), prompt SAM and refine
// (steps 3-4), score coarse and final masks where ground truth exists (query images only). The CLI's `run`
// is a thin front-end over run_pipeline.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "eval/evaluate.h"
#include "io/dataset.h"
#include "pipeline/ranked.h"
#include "pipeline/segment_dataset.h"
#include "propagate/feature_propagation.h"
#include "propagate/propagate.h"
#include "select/select.h"

namespace sammpa {

// Step 2's way of finding the object in a query: registration of every support (docs/PROPAGATE.md), a
// classifier over SAM's image embedding learned from the supports (propagate/feature_propagation.h), fused:
// the mean of those two soft maps (where both find the object, as on chest X-rays, their errors differ), or
// ranked: SAM's candidates over the whole image ranked by a model fitted on the supports (ranked.h), or
// automatic: the one that scores best by leave-one-out on the supports (self_config.h; K >= 2, else
// one_support_mode).
enum class Propagation { registration, feature, fused, ranked, automatic };
Propagation parse_propagation(const std::string& name);  // InputError if unknown
std::string propagation_name(Propagation p);

struct PipelineOptions {
  SelectOptions select;
  // The support set, when a person has already chosen and annotated it: step 1 is skipped (names must exist).
  std::vector<std::string> support;
  std::vector<std::vector<std::string>> support_alternates;  // per given support, from `sammpa select`'s JSON
  std::vector<std::string> support_set_aside;  // given with the supports (an earlier run's): not queries either
  // Off: when none of the supports' masks shows an object, the first of their alternates (step 1's, or given
  // ones) whose mask shows one takes its support's place (replace_empty_supports).
  bool keep_empty_supports = false;
  Propagation propagation = Propagation::automatic;  // chosen per data set by leave-one-out on the supports
  PropagateOptions propagate;
  FeaturePropagationOptions feature;
  RankedOptions ranked;
  SegmentOptions segment;
  bool sam = true;              // steps 3-4; off: the coarse masks are the final masks
  // Whether the prompt step's size floor (segment.prompt.min_object_area) falls to half the supports' smallest
  // object where that is smaller (lowered_size_floor); off when the user set the floor.
  bool prompt_floor_from_supports = true;
  // Scores grouped by the name up to the first '_' (BUSI: benign, malignant, normal) when names share such
  // prefixes: at most half as many groups as scored images (random ids or plain numbers give one group).
  bool group_by_prefix = true;
  // Non-empty: keep per-query work records in out_root/.work (pipeline/resume.h) so that a killed run can be
  // resumed, and keep the records already there when they were made under this same key.
  std::string resume_key;
  // What run.json names as the data set (default: the dataset's folder), e.g. where a generated data set will
  // be once the output folder is committed.
  std::filesystem::path dataset_path;
};

// `auto` with one support (or without SAM): no leave-one-out is possible, so the support's own mask decides.
// One object (sizable_objects, a lesion): the ranked mode, its ranker fitted on the support's own candidates
// (fit_ranker); on eight single BUSI supports it found lesions where registration and feature propagation
// could not (docs/RESULTS.md, "One support"). Several objects (two lungs): feature propagation where SAM runs and
// a second checkpoint's embedding joins the soft map (LiteMedSAM by default), which found chest X-ray lungs as
// registration does; with MobileSAM's embedding alone it lost there, so registration. Registration without SAM,
// and where the support's mask is empty (nothing to learn: every answer empty).
// `why`: the case, in words for the log, run.json ("propagation_why") and report.html.
struct OneSupportChoice {
  Propagation mode;
  std::string why;
};
OneSupportChoice one_support_mode(const PipelineOptions& options, int support_objects);

struct PipelineResult {
  Selection selection;
  // Selected and annotated, but without an object: set aside by replace_empty_supports (neither support nor
  // query, never scored), with the support each replaced.
  std::vector<std::string> set_aside;
  PropagationRun propagation;
  SegmentRun segment;
  std::optional<EvalReport> coarse_scores, final_scores;  // when every query has ground truth
  Propagation propagation_used = Propagation::registration;
  std::string propagation_why;  // `auto` with one support: one_support_mode's why (else self_config.json says it)
  double seconds_select = 0, seconds_propagate = 0, seconds_segment = 0, seconds_score = 0;
  size_t resumed_coarse = 0, resumed_final = 0;  // queries kept from an interrupted run's records
  bool steps_3_4_skipped = false;  // the leave-one-out kept the coarse masks (LeaveOneOut::keep_coarse)
};

// with_usable_masks (io/dataset.h) with a warning on stderr for each mask set aside (the first five): what
// `run`, `propagate` and `segment` work on once the supports are known, so that one bad ground-truth file of a
// query costs its score, not the run.
Dataset usable_masks_or_warn(const Dataset& dataset, const std::vector<std::string>& support);

// Writes under `out_root` (an OutputDir's staging folder): support.json/.txt, propagation.json, coarse/,
// soft/, masks/ (final), prompts/, embeddings/ (if options.segment.embeddings is set), overlay/,
// segment.json, eval.json/.csv (final) and eval_coarse.json/.csv, run.json (settings and timings).
// InputError when a selected support image has no mask (naming the images to annotate). Works on
// usable_masks_or_warn(data, the supports).
PipelineResult run_pipeline(const Dataset& data, const PipelineOptions& options,
                            const std::filesystem::path& out_root);

// True when the names share prefixes (see PipelineOptions::group_by_prefix).
bool names_share_prefixes(const std::vector<std::string>& names);

// Scores a folder of masks against the dataset (query images only) and writes PREFIX.json / PREFIX.csv.
// threads: images scored in parallel (0 = all cores).
EvalReport score_masks(const Dataset& data, const std::vector<std::string>& support,
                       const std::filesystem::path& masks, bool group_by_prefix,
                       const std::filesystem::path& prefix, int threads = 0);

}  // namespace sammpa
