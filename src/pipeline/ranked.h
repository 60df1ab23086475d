#pragma once
// The ranked mode (steps 2-4 for objects that move, such as breast lesions): the feature classifier's soft map
// (propagate/feature_propagation.h) no longer prompts SAM directly; instead SAM proposes candidates over the
// whole image (refine/candidates.h) and a ranker fitted on the supports' own candidates (refine/ranker.h) picks
// one, or none. The supports' soft maps are leave-one-out (each from a classifier fitted on the other
// supports), so the ranker learns from soft maps as good as a query's, not from ones that saw the answer.
#include <filesystem>
#include <functional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "io/dataset.h"
#include "pipeline/segment_dataset.h"
#include "propagate/feature_propagation.h"
#include "refine/candidate_embedding.h"
#include "refine/candidates.h"
#include "refine/ranker.h"
#include "refine/segment.h"
#include "sam/predictor.h"

namespace sammpa {

// A last decoder round on the chosen candidate (refine_candidate): on, off, or automatic (used when it raises
// the supports' leave-one-out Dice).
enum class RankedRound { off, on, automatic };

enum class EmptyFrom { supports, queries, automatic };

struct RankedOptions {
  CandidateOptions candidates;
  RankerOptions ranker{0.0};  // l2 0: the penalty is chosen by leave-one-out on the supports
  RankedRound round = RankedRound::automatic;
  // How many principal coordinates of each candidate's pooled SAM embedding the ranker sees
  // (candidate_embedding.h; 0: none).
  int embedding_components = 4;
  // A second checkpoint whose own candidates join the first one's, one ranker choosing among both (e.g.
  // LiteMedSAM beside MobileSAM; docs/RESULTS.md, "Two checkpoints' candidates"). Every candidate is described
  // in both checkpoints' embeddings. Empty: off.
  std::filesystem::path extra_checkpoint;
  std::filesystem::path extra_embeddings;  // its embedding cache (empty: none)
  std::filesystem::path extra_previous_embeddings;  // an earlier run's cache to take them from (as SegmentOptions)
  CandidateOptions extra_candidates = extra_candidate_defaults();
  // Whether the extra checkpoint's embedding also joins the feature classifier's (stack_embeddings), so that
  // the soft maps, which place the peaks, the soft boxes and the soft features, see both models (docs/RESULTS.md,
  // "Soft maps from both checkpoints").
  bool extra_soft_map = true;
  // After the choice (and the last round): the extra checkpoint prompted with the chosen mask's bounding box,
  // widened on each side by extra_round_margin of its width / height (step 3's box margin), the one prompt
  // LiteMedSAM was trained on; automatic: used unless the supports' leave-one-out Dice clearly drops with it
  // (use_round; docs/RESULTS.md, "The extra checkpoint's box round").
  RankedRound extra_round = RankedRound::automatic;
  double extra_round_margin = 0.1;
  // Where the "no object" threshold comes from (needs ranker.allow_empty; docs/PIPELINE.md, "No object"):
  // - supports: the supports' leave-one-out threshold, applied as each query is segmented;
  // - queries: the queries' own best scores (mixture_threshold, refine/ranker.h): every query first gets its
  //   best candidate, then answer_empty_from_queries blanks those below it; none when it cannot be fitted
  //   (supports of one kind only, or a degenerate fit);
  // - automatic: as queries, but the supports' threshold where the mixture cannot be fitted, fewer than
  //   empty_from_queries_min queries are scored (four scores per parameter of the two-Gaussian fit), the
  //   mixture's threshold lies above the held-out scores of most supports with an object, or its share of images
  //   without the object lies outside the 95% exact binomial interval of the supports' share (share_interval).
  EmptyFrom empty_from = EmptyFrom::automatic;
  size_t empty_from_queries_min = 20;
  // Several objects per image (two lungs, lesions in more than one place; docs/PIPELINE.md, "Several objects"):
  // after the best candidate, others that score at least objects_ratio times the best and lie mostly outside
  // those taken join the answer (choose_objects, refine/ranker.h). 0: one candidate per image; below 0
  // (automatic): the ratio of object_ratios with the best leave-one-out Dice on the supports, used only on
  // clear evidence (one object is the method's answer) and only where a support's mask holds several objects
  // (components above a tenth of the largest): use_several_objects.
  double objects_ratio = -1;
  std::vector<double> object_ratios = {0.9, 0.75, 0.6};
  double objects_overlap = 0.2;  // the largest share of a further object's area inside those taken
  int max_objects = 4;

  // The extra checkpoint's default candidates: the soft map's peaks and boxes, no point or box grid. A 4 x 4
  // grid of boxes (96 prompts, the prompt LiteMedSAM was trained on) took steps 3-4 to 2-3x their time and chose
  // no better than these 8 prompts on BUSI (docs/RESULTS.md, "A lighter second checkpoint").
  static CandidateOptions extra_candidate_defaults() {
    CandidateOptions c;
    c.grid = 0;
    c.box_grid = 0;
    return c;
  }
};

// The extra checkpoint's view of the supports (RankedOptions::extra_checkpoint): a predictor of that model and
// the supports' embeddings under it, in support order.
struct ExtraModel {
  sam::SamPredictor* predictor = nullptr;
  std::vector<sam::ImageEmbedding> supports;
};

struct RankedSupports {
  std::vector<RankedImage> images;  // per support: its candidates' features and IoUs with its mask
  EmbeddingProjection projection;   // fitted on the supports' candidates; extends every feature row
  bool extra_model = false;         // whether candidates also come from RankedOptions::extra_checkpoint
  EmbeddingProjection extra_projection;  // as `projection`, in the extra checkpoint's embedding
  std::vector<std::string> feature_names;  // of each feature row's columns
  RankerLeaveOneOut loo;            // each support chosen by a ranker fitted on the others
  bool allow_empty = true;          // RankerOptions::allow_empty: whether "no object" could be chosen
  double l2 = 0;                    // the penalty leave-one-out chose (ranker_penalties)
  std::vector<double> loo_by_penalty;  // mean leave-one-out Dice for each of ranker_penalties()
  // Held-out squared error of the predicted IoU, per penalty: supports left out (K >= 2), or the one support's
  // candidates (K = 1, leave_one_candidate_out_errors)
  std::vector<double> loo_error_by_penalty;
  PenaltyRule penalty_rule = PenaltyRule::dice;  // the rule applied (choose_penalty)
  CandidateRanker ranker;           // fitted on every support, with the leave-one-out threshold for "empty"
  // The largest candidate kept, as a fraction of the image (CandidateOptions::max_area), for each checkpoint:
  // the options' own, raised where the supports' objects are large (candidate_max_area).
  double max_area = 0, extra_max_area = 0;
  bool round = false;               // whether queries get the last decoder round
  std::vector<double> dice_without_round, dice_with_round;  // per support, leave-one-out
  bool extra_round = false;         // whether queries get the extra checkpoint's box round
  std::vector<double> dice_without_extra_round, dice_with_extra_round;  // per support, leave-one-out
  double objects_ratio = 0;         // several objects per image (RankedOptions::objects_ratio); 0: one
  std::vector<double> object_ratios;  // the ratios judged, and per ratio and support the leave-one-out Dice
  std::vector<std::vector<double>> dice_by_objects_ratio;
  std::vector<double> dice_one_object;  // per support, leave-one-out, one candidate per image
  size_t supports_with_several_objects = 0;  // components above a tenth of the largest one's area
  // Per support: Dice of the candidate chosen by a ranker whose penalty and threshold were chosen on the other
  // supports alone (nested leave-one-out): the unbiased score the automatic choice compares.
  std::vector<double> nested_dice;
  // The same held-out rankers with no "no object" threshold (0 on supports without an object): how well the
  // ranked mode finds an object where there is one.
  std::vector<double> nested_dice_found;
  // Fitted on the one support whose mask shows the object (K = 1, or one among supports without it): nothing
  // is held out, the choices follow fixed rules (fit_on_one_support in ranked.cpp); the other supports' best
  // scores (loo.best_score) are held out, as a query's.
  bool on_one_support = false;
};

// The largest candidate the ranked mode keeps, as a fraction of the image: `configured`, or 1.5 times the
// supports' largest object where that is more (at most 0.98). The default 0.6 was set on BUSI, whose lesions
// cover at most 56% of an image; objects that fill most of their image (a skin lesion in dermoscopy, an organ in
// a tight crop) would otherwise have no candidate at all. masks: 0/255.
double candidate_max_area(double configured, const std::vector<cv::Mat>& masks);

// The smallest object kept, as a fraction of the image (PromptOptions::min_object_area,
// CandidateOptions::min_area): `configured`, or half the supports' smallest object where that is less (at least
// 2e-5, about a pixel of the decoder's work frame). The defaults (0.1% and 0.05%) were set on BUSI and chest
// X-ray, whose masks cover at least 0.28% of an image (scripts/mask_stats.py); an object below the floor is
// never segmented.
// masks: 0/255; empty ones are ignored.
double lowered_size_floor(double configured, const std::vector<cv::Mat>& masks);

// How many objects a mask (0/255) holds: its connected components above a tenth of the largest one's area.
int sizable_objects(const cv::Mat& mask);

// The ranked mode's second checkpoint from what a user asked for: "auto" is LiteMedSAM where
// scripts/fetch_lite_medsam.sh cached it (sam::checkpoint_cache()) and the run's own checkpoint (`main`; empty:
// sam::default_checkpoint()) is another file, else none (also, with a warning, when that file cannot be read as
// a checkpoint); "none" or "" is none; anything else is that file (InputError if it does not exist). Empty
// result: the run's checkpoint alone. Measured on BUSI, the medical checkpoint's soft map, peaks and box round
// raised the lesion Dice by 0.06 on three support sets for 7-18% more time in steps 3-4 plus its encoder
// (docs/RESULTS.md, "A lighter second checkpoint").
std::filesystem::path resolve_extra_checkpoint(const std::string& spec, const std::filesystem::path& main);

// Whether a round after the ranked mode's choice is used, from the supports' held-out Dice with and without it
// (one per support). on / off: as given. automatic: when it raises the mean; with keep_unless_clear_loss, unless
// the supports it changed, three or more, lose with it beyond one standard error of their paired differences
// (fewer: the means decide). The extra checkpoint's box round is kept so: a box is what LiteMedSAM was trained
// on, it raised the lesion Dice on every BUSI support set measured, and where the supports dropped it on a
// near-tie the queries lost (docs/RESULTS.md, "The box round stays unless the supports clearly lose with it").
bool use_round(RankedRound mode, const std::vector<double>& with, const std::vector<double>& without,
               bool keep_unless_clear_loss);

// Whether the ranked mode's answers may hold several objects (objects_ratio automatic), from the supports:
// gain is, per support, the held-out Dice of the best ratio's answers minus that of one candidate per image.
// Only where at least one support's mask holds several objects: with none, a union of candidates wins on the
// supports by hedging (a held-out ranker fitted on K - 1 images often misses, and a second candidate then
// covers the lesion), which the queries' ranker, fitted on all K, does not need; on five BUSI supports of one
// lesion each the union scored 0.74 against 0.50 held out and cost the queries 0.22 (docs/RESULTS.md, "Several
// objects need a support that shows them"). Then: where the gain is clearly positive (beyond one standard
// error of the paired differences), or where most supports with an object hold several and it loses nothing.
bool use_several_objects(const std::vector<double>& gain, size_t supports_with_object, size_t supports_with_several);

// embeddings, masks (image size, 0/255), images (as read) of the K supports (K = 1: nothing is held out; the
// choices leave-one-out would make follow fixed rules, fit_on_one_support in ranked.cpp). Where exactly one of
// K >= 2 masks shows the object (the others normal images), the ranker is fitted on that one alone, as at
// K = 1: a held-out lesion found from normal images alone scores 0 whatever is chosen, so leave-one-out would
// judge nothing (RankedSupports::on_one_support). `on_support` is called as each support's candidates are made
// (most of the work), for a progress bar.
RankedSupports fit_ranker(const std::vector<sam::ImageEmbedding>& embeddings, const std::vector<cv::Mat>& masks,
                          const std::vector<cv::Mat>& images, const FeaturePropagationOptions& feature,
                          const RankedOptions& options, sam::SamPredictor& predictor,
                          const std::vector<std::string>& names = {}, const ExtraModel* extra = nullptr,
                          const std::function<void()>& on_support = {});

// One query whose embedding is set in `predictor` (and in `extra`, the extra checkpoint's predictor, when the
// ranker was fitted with one): soft map (image size, CV_32FC1) from the classifier of all supports. The result
// holds one object (the chosen candidate) or none.
QuerySegmentation segment_ranked(const sam::SamPredictor& predictor, const cv::Mat& image, const cv::Mat& soft,
                                 const RankedSupports& fitted, const RankedOptions& options,
                                 const std::string& name = "", const sam::SamPredictor* extra = nullptr);

nlohmann::json to_json(const RankedSupports& supports, const std::vector<std::string>& names);

// RankedOptions::empty_from queries or automatic, once steps 3-4 have given every query its best candidate: the
// queries whose best score (their record's objects[0].agreement) is below the threshold (mixture_threshold, or
// the supports' where `from` is automatic and the mixture is not used) get an empty final mask (OUT/masks,
// OUT/overlay when drawn) and a record that says so; sets supports.ranker.empty_below to the threshold used
// (none: never empty), beside the supports' own in supports.loo.threshold. Returns what ranker.json records
// about it. Queries already blanked (a resumed run) keep their score in the record, so that running it again
// gives the same answer.
nlohmann::json answer_empty_from_queries(const Dataset& data, RankedSupports& supports, SegmentRun& run,
                                         const std::filesystem::path& out_root, bool overlays,
                                         EmptyFrom from = EmptyFrom::queries, size_t min_queries = 20);

}  // namespace sammpa
