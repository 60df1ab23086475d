#pragma once
// The ranked mode's choice among SAM's candidates (candidates.h): a ridge regression from a few plain
// features of a candidate (SAM's predicted IoU and stability, how much of the soft map it holds, its size,
// place, shape and brightness against its surroundings) to its IoU with the true object(s) it covers, fitted
// on the candidates of the run's own support images. A query gets its highest-scoring candidate (and, where
// leave-one-out finds images with several objects, the next ones that lie elsewhere: choose_objects), or nothing
// when even the best scores below a threshold that leave-one-out on the supports chose (only supports without an
// object can make "nothing" pay off, so a folder whose supports all hold an object never gets empty answers).
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "refine/candidates.h"

namespace sammpa {

// Everything the ranker knows about an image's candidates. soft, grey: work-frame maps (to_work_frame):
// the soft map in [0, 1] and the grey image in 0-255.
std::vector<std::vector<double>> candidate_features(const std::vector<MaskCandidate>& candidates,
                                                    const cv::Mat& soft, const cv::Mat& grey);
const std::vector<std::string>& candidate_feature_names();
// The names of the features a ranker with `count` features sees: candidate_feature_names(), then the
// coordinates along the embedding's principal directions (candidate_embedding.h), emb_pc1, emb_pc2, ...
std::vector<std::string> ranker_feature_names(size_t count);

// One support image's candidates as training data: features and IoU with the true mask (work frame).
// The label is the IoU with the truth's objects the candidate covers (connected components with more than a tenth
// of their area inside it; the plain IoU where it covers none), so that one whole lung of two scores as high as
// a mask of both: a candidate is judged as one object, and choose_objects adds the others. Where the truth is one
// object it is the plain IoU.
struct RankedImage {
  std::vector<std::vector<double>> features;
  std::vector<double> iou;   // IoU of each candidate with the truth's objects it covers (the ranker's label)
  std::vector<double> dice;  // Dice of each candidate with the whole truth (what an answer scores)
  bool empty_truth = false;
  cv::Mat embedding;  // candidate_embeddings(): one row per candidate
};
RankedImage label_candidates(const std::vector<MaskCandidate>& candidates, const cv::Mat& soft,
                             const cv::Mat& grey, const cv::Mat& truth_work);

// How the supports' leave-one-out picks the penalty among ranker_penalties() (docs/RESULTS.md, "The ranker's
// penalty"):
// - dice: the best mean held-out Dice of the chosen candidates (ties: the stronger penalty). One number per
//   support: with ten supports one image's answer moves the mean by a tenth, and the choice follows chance;
// - error: the least held-out squared error of the predicted IoU over every candidate of every support, the
//   loss the ridge itself fits (ties: the stronger penalty). Forty-odd numbers per support: a smooth curve,
//   but blind to the "no object" threshold, which the Dice of the supports without the object judges;
// - automatic: error where no empty answer is possible (every support holds the object, or empty answers are
//   off), else dice. Measured on BUSI: on four support sets of lesions only the error rule chose better
//   (lesion Dice +0.003 to +0.035); on three with normal images among the supports it answered fewer normal
//   queries empty and scored lower over every query (-0.001 to -0.037).
enum class PenaltyRule { dice, error, automatic };

struct RankerOptions {
  // Ridge penalty per training candidate (features standardised): the penalty is l2 x the number of candidates
  // fitted on, so that it means the same with 5 supports or 50.
  double l2 = 1.0;
  // Whether leave-one-out may choose a "no object" threshold at all. Off for folders where every image holds
  // the object: the supports' mix of images with and without one (k-centroid took 4 normal BUSI images of 10,
  // against 16% in the folder) then cannot make the ranker drop lesions.
  bool allow_empty = true;
  PenaltyRule penalty_rule = PenaltyRule::automatic;  // when leave-one-out picks the penalty (l2 not fixed)
};

// The ridge penalties leave-one-out chooses among (fit_ranker): with ten supports, the penalty decides how much
// the ranker may trust the few lesions it has seen.
inline const std::vector<double>& ranker_penalties() {
  static const std::vector<double> p = {0.01, 0.1, 0.3, 1.0, 3.0, 10.0};
  return p;
}

class CandidateRanker {
 public:
  // Throws InputError when there is no candidate to learn from.
  static CandidateRanker train(const std::vector<const RankedImage*>& images, const RankerOptions& options);
  double score(const std::vector<double>& features) const;
  // Index and score of the highest-scored candidate (index -1 when there is none).
  std::pair<int, double> best(const std::vector<std::vector<double>>& features) const;
  // Index of the best candidate, or -1 when there is none or the best scores below empty_below.
  int choose(const std::vector<std::vector<double>>& features) const;
  double empty_below = -1e300;
  // names: one per feature (default: ranker_feature_names()).
  nlohmann::json to_json(const std::vector<std::string>& names = {}) const;

 private:
  std::vector<double> mean_, scale_, weights_;  // weights_: one per feature, then the bias
};

// Several objects per image (RankedOptions::objects_ratio, pipeline/ranked.h): the best-scored candidate, then
// each other one in score order that scores at least ratio x the best and has at most `overlap` of its area
// inside the candidates taken so far, up to max_objects. ratio 0 (or a best score <= 0): the best alone.
// Empty when there is no candidate. scores: one per candidate (CandidateRanker::score).
std::vector<int> choose_objects(const std::vector<double>& scores, const std::vector<MaskCandidate>& candidates,
                                double ratio, double overlap = 0.2, int max_objects = 4);

// The "no object" threshold set on the queries' own best scores, without their labels (--ranked-empty queries;
// docs/RESULTS.md, "The 'no object' threshold from the queries' scores"): the supports, the clusters' most
// typical images, score higher than the queries, and how many of them lack the object is chance. A mixture of
// two Gaussians is fitted by EM to the queries' best scores, started from the supports' held-out best scores
// of each class; the threshold is the lowest score between the two means where the object component is the
// more probable. nullopt when a class has no support or the fit ends with the components in the wrong order.
struct MixtureThreshold {
  double threshold = 0;
  double weight_empty = 0, mean_empty = 0, sd_empty = 0, mean_object = 0, sd_object = 0;
};
std::optional<MixtureThreshold> mixture_threshold(const std::vector<double>& query_scores,
                                                  const std::vector<double>& empty_supports,
                                                  const std::vector<double>& object_supports);

// The shares of a folder's images that `k` of `n` drawn images showing a property are consistent with: the
// two-sided exact binomial (Clopper-Pearson) interval at `level`; [0, upper] for k = 0, [lower, 1] for k = n.
// Used to refuse a mixture whose "no object" share the supports make implausible.
std::pair<double, double> share_interval(size_t k, size_t n, double level = 0.95);

// Fisher's exact test, one-sided: the probability that `k` or fewer of `n` supports are without the object when
// the supports and `m` queries share one folder's images and `k + b` of the `n + m` are without it (`b` of the
// queries, as a "no object" threshold answers them): the hypergeometric P(X <= k). Small: the threshold answers
// far more queries empty than the supports' own share makes plausible.
double fewer_in_supports_probability(size_t k, size_t n, size_t b, size_t m);

// Leave-one-out over the supports' candidates: for each image, a ranker fitted on the others picks its
// candidate. Gives each image's Dice (an empty answer scores 1 on an empty truth, else 0) for a threshold, and
// the threshold (among the held-out best scores, or never empty) with the best mean Dice.
struct RankerLeaveOneOut {
  std::vector<int> chosen;         // index of the held-out ranker's candidate (-1: none)
  std::vector<double> best_score;  // the held-out ranker's score of its chosen candidate (-inf: none)
  std::vector<double> chosen_dice;  // Dice of that candidate (0 if none)
  std::vector<bool> empty_truth;
  double threshold = -1e300;
  std::vector<double> dice;  // per image, with the threshold applied
  double mean_dice() const;
  // The held-out ranker's squared error of the predicted IoU, summed over each image's candidates.
  std::vector<double> squared_error;
  std::vector<size_t> candidates;
  double mean_squared_error() const;  // over every candidate of every image
};
RankerLeaveOneOut rank_leave_one_out(const std::vector<RankedImage>& images, const RankerOptions& options);

// The penalty by leave-one-out on the supports (options.penalty_rule) and that penalty's leave-one-out;
// options.l2 > 0 fixes it. Each rule's figures for every penalty of ranker_penalties() are kept.
struct PenaltyChoice {
  double l2 = 0;
  RankerLeaveOneOut loo;
  std::vector<double> by_penalty;        // mean held-out Dice
  std::vector<double> error_by_penalty;  // held-out squared error of the predicted IoU
  PenaltyRule rule = PenaltyRule::dice;  // the rule applied (never automatic)
};
PenaltyChoice choose_penalty(const std::vector<RankedImage>& images, const RankerOptions& options);

// One image's candidates, each left out in turn: the squared error of the IoU predicted for it by the ridge
// (penalty l2, fitted as CandidateRanker::train fits it) on the others, one per candidate. Closed form (the
// residual over one minus the candidate's leverage), the features standardised once on every candidate. With one
// support there is no image to hold out (docs/RESULTS.md, "One support: the ranker's penalty by leaving
// candidates out"). Empty with fewer than two candidates.
std::vector<double> leave_one_candidate_out_errors(const RankedImage& image, double l2);

// The penalty for one support: the strongest of ranker_penalties() whose mean leave-one-candidate-out error is
// within one standard error of the least (the held-out candidates share one image, so a penalty that wins by
// less than that is not shown to generalise to other images). errors: per penalty, per candidate.
double one_standard_error_penalty(const std::vector<std::vector<double>>& errors);

}  // namespace sammpa
