#pragma once
// Self-configuration by leave-one-out on the supports: each support in turn is a query for the other K - 1,
// every candidate way of finding the object (step 2: registration, feature, fused, each with steps 3-4; ranked, whose
// ranker is fitted on the other supports' candidates) runs, and its Dice against the support's own mask is the
// score (the ranked mode's in the decoder's low-resolution frame), as are registration's and feature
// propagation's coarse masks without steps 3-4. The best mean wins and is used on the real queries. No query
// label is used; everything comes from the K annotated images of the run.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "pipeline/pipeline.h"

namespace sammpa {

struct LeaveOneOut {
  Propagation chosen = Propagation::registration;
  // Whether the chosen mode's coarse masks are the answer: they scored higher than its final ones (steps 3-4
  // lowered the supports' Dice); the ranked mode has no coarse masks of its own.
  bool keep_coarse = false;
  std::vector<std::string> support;
  // Per mode ("registration", "feature", "fused", "ranked"): per support, Dice of the coarse and of the final mask.
  std::map<std::string, std::vector<double>> coarse_dice, final_dice;
  // Per support: whether its mask holds an object. The modes are compared on those that do (on all, where none
  // does or this is left empty): how well each one finds the object. Whether a query holds one at all is the
  // chosen mode's own rule on the queries (the ranked mode's "no object" threshold from the queries' scores),
  // which the supports cannot judge: with few of them, the ranked mode's nested threshold, fitted on K - 2
  // images, blanked held-out lesions its ranker had found (docs/RESULTS.md, "... what the automatic choice
  // compares").
  std::vector<bool> has_object;
  // The ranked mode's nested held-out Dice without a "no object" threshold (RankedSupports::nested_dice_found):
  // what the comparison uses for it; final_dice["ranked"] keeps the scores with the threshold, for the record.
  std::vector<double> ranked_found;
  // Per mode: the mean that was compared (final Dice, or coarse where those won).
  std::map<std::string, double> compared;
  // Where the best mean's lead was within the noise and the order of choose_from_scores decided: how.
  std::string why;
  // The ranked mode's fit on all supports (reused when it is chosen), with the extra checkpoint's candidates
  // when RankedOptions::extra_checkpoint is given.
  std::optional<RankedSupports> ranked;
  double seconds = 0;
};

// The ranked mode's extra checkpoint (options.ranked.extra_checkpoint; null when none) with its own embedding
// cache (options.ranked.extra_embeddings), and the embeddings of `support` under it.
struct ExtraSource {
  EmbeddingSource source;
  std::unique_ptr<sam::SamPredictor> predictor;
  ExtraModel model;  // points to `predictor`
};
std::unique_ptr<ExtraSource> open_extra_source(const Dataset& data, const std::vector<std::string>& support,
                                               const PipelineOptions& options);

// The ranked mode's ranker fitted on the supports (embeddings through options.segment's cache).
RankedSupports fit_ranker_on_supports(const Dataset& data, const std::vector<std::string>& support,
                                      const PipelineOptions& options);

// Needs K >= 2 supports, each with a mask (with two, each is judged from the other alone: weak evidence, but on
// BUSI it still told lesions that move from lungs that register; docs/RESULTS.md). `work` is a scratch folder
// (removed afterwards). Embeddings go to (and come from) options.segment.embeddings.
LeaveOneOut choose_by_leave_one_out(const Dataset& data, const std::vector<std::string>& support,
                                    const PipelineOptions& options, const std::filesystem::path& work);

// Sets loo.chosen, loo.keep_coarse and loo.compared from loo.coarse_dice and loo.final_dice (the ranked mode's
// from loo.ranked_found where given; choose_by_leave_one_out's last step), over the supports with an object
// (loo.has_object): the best mean over every mode's final masks and registration's, feature propagation's and
// the fused ones' coarse masks, the coarse ones only where they beat the same mode's final ones by more than one
// standard error of the paired differences (steps 3-4 are the method; they go only on clear evidence); ties go
// to registration, then feature, then fused. Then, on three or more supports, a lead within one standard error
// of the paired differences decides nothing: the best mode must lead registration by more, else registration
// stays; then feature propagation or the fused maps must lead the ranked mode by more, else the ranked mode is
// taken (loo.why says so).
void choose_from_scores(LeaveOneOut& loo);
// The supports the modes are compared on (indices): those with an object, or every one where none has one;
// empty where loo.has_object is not given (then every score counts).
std::vector<size_t> compared_supports(const LeaveOneOut& loo);

nlohmann::json to_json(const LeaveOneOut& loo);

}  // namespace sammpa
