#include "pipeline/ranked.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <utility>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "common/output_dir.h"
#include "eval/metrics.h"
#include "io/image_io.h"
#include "io/overlay.h"
#include "pipeline/resume.h"
#include "sam/checkpoint/checkpoint.h"
#include "sam/checkpoint/model_config.h"
#include "sam/sam_model.h"

namespace fs = std::filesystem;

namespace sammpa {

namespace {

// Developer aid for studying the ranker offline: with SAMMPA_RANKED_DUMP=DIR, every image's candidates are
// written as DIR/NAME.csv (one row of features per candidate) and DIR/NAME_I.png (its mask in the work frame).
void dump_candidates(const std::string& name, const std::vector<MaskCandidate>& cands,
                     const std::vector<std::vector<double>>& features, const std::vector<std::string>& names) {
  const char* dir = std::getenv("SAMMPA_RANKED_DUMP");
  if (!dir || !*dir || name.empty()) return;
  std::filesystem::create_directories(dir);
  std::ofstream csv(std::filesystem::path(dir) / (name + ".csv"));
  csv << "source";
  for (const auto& n : names) csv << ',' << n;
  csv << '\n';
  for (size_t i = 0; i < cands.size(); ++i) {
    csv << cands[i].source;
    for (double v : features[i]) csv << ',' << v;
    csv << '\n';
    cv::imwrite((std::filesystem::path(dir) / (name + "_" + std::to_string(i) + ".png")).string(), cands[i].mask);
  }
}

// The checkpoints' predictors, each holding the same image's embedding (extra: null when there is one).
struct Models {
  const sam::SamPredictor* own = nullptr;
  const sam::SamPredictor* extra = nullptr;
  const sam::SamPredictor& of(const MaskCandidate& c) const { return c.model == 1 ? *extra : *own; }
};

// An image's candidates from the run's checkpoint and, if given, the extra one's, all in the first one's work
// frame (the two frames can differ by a pixel of rounding). soft: image size, in [0, 1].
std::vector<MaskCandidate> propose(const Models& m, const cv::Mat& soft, const RankedOptions& o) {
  const auto& f = m.own->embedding().frame;
  std::vector<MaskCandidate> cands = generate_candidates(*m.own, to_work_frame(soft, f), o.candidates);
  if (m.extra) {
    const cv::Size ws = work_size(f);
    for (auto& c : generate_candidates(*m.extra, to_work_frame(soft, m.extra->embedding().frame), o.extra_candidates)) {
      c.model = 1;
      c.source = "extra_" + c.source;
      if (c.mask.size() != ws) cv::resize(c.mask, c.mask, ws, 0, 0, cv::INTER_NEAREST);
      cands.push_back(std::move(c));
    }
  }
  return cands;
}

// The last decoder round on a candidate, by the checkpoint that proposed it; its mask in the first one's work frame.
MaskCandidate refine_by(const Models& m, const MaskCandidate& c) {
  MaskCandidate r = refine_candidate(m.of(c), c);
  r.model = c.model;
  const cv::Size ws = work_size(m.own->embedding().frame);
  if (r.mask.size() != ws) cv::resize(r.mask, r.mask, ws, 0, 0, cv::INTER_NEAREST);
  return r;
}

// The extra checkpoint's answer to the box around a chosen candidate (RankedOptions::extra_round), in the first
// one's work frame. An empty candidate stays as it is.
MaskCandidate rebox_by_extra(const Models& m, const MaskCandidate& c, double margin) {
  const cv::Rect r = cv::boundingRect(c.mask);
  if (r.empty() || !m.extra) return c;
  const sam::ImageFrame& f = m.own->embedding().frame;
  const cv::Size ws = work_size(f);
  const double sx = static_cast<double>(f.orig_w) / ws.width, sy = static_cast<double>(f.orig_h) / ws.height;
  const double dx = margin * r.width, dy = margin * r.height;
  auto clip = [](double v, int hi) { return static_cast<float>(std::clamp(v, 0.0, static_cast<double>(hi))); };
  const std::array<float, 4> box{clip((r.x - dx) * sx, f.orig_w), clip((r.y - dy) * sy, f.orig_h),
                                 clip((r.x + r.width + dx) * sx, f.orig_w), clip((r.y + r.height + dy) * sy, f.orig_h)};
  MaskCandidate out = box_candidate(*m.extra, box);
  out.model = 1;
  out.source = c.source + "+extra_box";
  if (out.mask.size() != ws) cv::resize(out.mask, out.mask, ws, 0, 0, cv::INTER_NEAREST);
  return out;
}

// The answer for a chosen candidate: itself, or after the rounds the fit decided on.
MaskCandidate finish_choice(const Models& m, const MaskCandidate& c, bool round, bool extra_round, double margin) {
  MaskCandidate out = round ? refine_by(m, c) : c;
  return extra_round ? rebox_by_extra(m, out, margin) : out;
}

// Appends what the embeddings say (each checkpoint's principal coordinates) and, with two checkpoints, which
// one proposed the candidate.
void append_embedding_features(const RankedSupports& r, const cv::Mat& own, const cv::Mat& extra,
                               const std::vector<MaskCandidate>& cands, std::vector<std::vector<double>>& features,
                               bool two_models) {
  if (r.projection.components() > 0) r.projection.append(own, features);
  if (!two_models) return;
  if (r.extra_projection.components() > 0) r.extra_projection.append(extra, features);
  for (size_t i = 0; i < cands.size(); ++i) features[i].push_back(cands[i].model);
}

std::vector<std::string> feature_names(const RankedSupports& r, bool two_models) {
  std::vector<std::string> names = candidate_feature_names();
  for (int k = 1; k <= r.projection.components(); ++k) names.push_back("emb_pc" + std::to_string(k));
  if (!two_models) return names;
  for (int k = 1; k <= r.extra_projection.components(); ++k) names.push_back("extra_emb_pc" + std::to_string(k));
  names.push_back("from_extra_checkpoint");
  return names;
}

}  // namespace

double candidate_max_area(double configured, const std::vector<cv::Mat>& masks) {
  double largest = 0;
  for (const auto& m : masks)
    if (!m.empty()) largest = std::max(largest, static_cast<double>(cv::countNonZero(m)) / m.total());
  return std::max(configured, std::min(0.98, 1.5 * largest));
}

double lowered_size_floor(double configured, const std::vector<cv::Mat>& masks) {
  double smallest = 1;
  for (const auto& m : masks)
    if (const int area = m.empty() ? 0 : cv::countNonZero(m); area > 0)
      smallest = std::min(smallest, static_cast<double>(area) / m.total());
  return std::min(configured, std::max(2e-5, 0.5 * smallest));
}

int sizable_objects(const cv::Mat& mask) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
  int largest = 0, count = 0;
  for (int l = 1; l < n; ++l) largest = std::max(largest, stats.at<int>(l, cv::CC_STAT_AREA));
  for (int l = 1; l < n; ++l) count += stats.at<int>(l, cv::CC_STAT_AREA) > 0.1 * largest;
  return count;
}

namespace {

// The options with the candidates' size limit the fitted ranker saw.
RankedOptions with_fitted_areas(RankedOptions o, const RankedSupports& r) {
  o.candidates.max_area = r.max_area;
  o.extra_candidates.max_area = r.extra_max_area;
  return o;
}

// One support (K = 1): no image is left to hold out. The ranker is fitted on the support's candidates with the
// penalty chosen by leaving each candidate out in turn (one_standard_error_penalty; docs/RESULTS.md, "One
// support: the ranker's penalty by leaving candidates out") unless one is given; no "no object" answer (there is
// no image without the object to set a threshold on); the last round only where asked; the extra checkpoint's box
// round unless switched off (it stays unless the supports clearly lose with it, and one support cannot show
// that); several objects where the support's mask holds several, at the most lenient ratio (the tie rule). The
// support's soft map is empty (no other support to learn it from), so its candidates come from the point grid and
// the ranker learns no weight for the soft map's features.
RankedSupports fit_on_one_support(RankedSupports r, const RankedOptions& o, const std::vector<cv::Mat>& masks,
                                  size_t one, bool extra) {
  const RankedImage& fitted = r.images[one];
  r.l2 = o.ranker.l2;
  if (r.l2 <= 0) {
    std::vector<std::vector<double>> errors;
    for (double p : ranker_penalties()) {
      errors.push_back(leave_one_candidate_out_errors(fitted, p));
      r.loo_error_by_penalty.push_back(
          std::accumulate(errors.back().begin(), errors.back().end(), 0.0) / std::max<size_t>(1, errors.back().size()));
    }
    r.l2 = one_standard_error_penalty(errors);
  }
  r.penalty_rule = PenaltyRule::error;
  r.on_one_support = true;
  const size_t k = r.images.size();
  r.loo.chosen.assign(k, -1);
  r.loo.best_score.assign(k, -1e300);
  r.loo.chosen_dice.assign(k, 0.0);
  r.loo.empty_truth.clear();
  for (const auto& im : r.images) r.loo.empty_truth.push_back(im.empty_truth);
  r.loo.dice.assign(k, 0.0);
  r.loo.squared_error.assign(k, 0.0);
  r.loo.candidates.clear();
  for (const auto& im : r.images) r.loo.candidates.push_back(im.features.size());
  r.round = o.round == RankedRound::on;
  r.extra_round = extra && o.extra_round != RankedRound::off;
  r.supports_with_several_objects = sizable_objects(masks[one]) > 1;
  if (o.objects_ratio > 0) {
    r.objects_ratio = o.objects_ratio;
  } else if (o.objects_ratio < 0 && r.supports_with_several_objects > 0) {
    r.objects_ratio = *std::min_element(o.object_ratios.begin(), o.object_ratios.end());
  }
  RankerOptions ro = o.ranker;
  ro.l2 = r.l2;
  r.ranker = CandidateRanker::train({&fitted}, ro);
  // The supports without the object were not fitted on: their best scores are held out, as a query's. They do
  // not start the queries' "no object" mixture (answer_empty_from_queries), which needs a held-out score of an
  // object too: started from this support's own score instead, it put 45-85% of the BUSI queries (a quarter of
  // them normal) in the "no object" group and cost 0.10-0.26 of the lesion Dice on the five support sets where it
  // fitted (docs/RESULTS.md, "One lesion support: no 'no object' answer").
  for (size_t i = 0; i < k; ++i) {
    if (i == one) continue;
    const auto [c, score] = r.ranker.best(r.images[i].features);
    r.loo.chosen[i] = c;
    if (c >= 0) r.loo.best_score[i] = score;
  }
  return r;
}

}  // namespace

bool use_round(RankedRound mode, const std::vector<double>& with, const std::vector<double>& without,
               bool keep_unless_clear_loss) {
  if (mode != RankedRound::automatic) return mode == RankedRound::on;
  std::vector<double> loss;  // without - with, on the supports the round changed
  double gain = 0;
  for (size_t i = 0; i < with.size() && i < without.size(); ++i) {
    gain += with[i] - without[i];
    if (with[i] != without[i]) loss.push_back(without[i] - with[i]);
  }
  if (keep_unless_clear_loss && loss.size() >= 3) return !clearly_positive(loss);
  return gain > 1e-12;
}

bool use_several_objects(const std::vector<double>& gain, size_t supports_with_object, size_t supports_with_several) {
  if (supports_with_several == 0) return false;
  // The supports' own masks are evidence too: where most of those with an object hold several, and several
  // objects per answer cost nothing on the supports (their held-out best candidates may already cover all).
  const bool shown = 2 * supports_with_several > supports_with_object &&
                     std::accumulate(gain.begin(), gain.end(), 0.0) > -1e-12;
  return shown || clearly_positive(gain);
}

RankedSupports fit_ranker(const std::vector<sam::ImageEmbedding>& embeddings, const std::vector<cv::Mat>& masks,
                          const std::vector<cv::Mat>& images, const FeaturePropagationOptions& feature,
                          const RankedOptions& options, sam::SamPredictor& predictor,
                          const std::vector<std::string>& names, const ExtraModel* extra,
                          const std::function<void()>& on_support) {
  RankedSupports r;
  r.max_area = candidate_max_area(options.candidates.max_area, masks);
  r.extra_max_area = candidate_max_area(options.extra_candidates.max_area, masks);
  const RankedOptions o = with_fitted_areas(options, r);
  const size_t k = embeddings.size();
  if (k < 1) throw InputError("ranked mode", "needs at least 1 support");
  if (k == 1 && cv::countNonZero(masks[0]) == 0)
    throw InputError("ranked mode", "the only support's mask is empty: no object to learn from");
  if (extra && (!extra->predictor || extra->supports.size() != k))
    throw InputError("ranked mode", "the extra checkpoint needs every support's embedding");
  const Models models{&predictor, extra ? extra->predictor : nullptr};
  auto set = [&](size_t i) {
    predictor.set_embedding(embeddings[i]);
    if (extra) extra->predictor->set_embedding(extra->supports[i]);
  };
  // the soft maps' input, when both checkpoints make them
  const std::vector<sam::ImageEmbedding> stacked =
      extra && o.extra_soft_map ? stack_each(embeddings, extra->supports) : std::vector<sam::ImageEmbedding>{};
  const std::vector<sam::ImageEmbedding>& soft_in = stacked.empty() ? embeddings : stacked;
  std::vector<std::vector<MaskCandidate>> candidates(k);
  std::vector<cv::Mat> truths(k), extra_pooled(k);
  for (size_t i = 0; i < k; ++i) {
    std::vector<const sam::ImageEmbedding*> refs;
    std::vector<cv::Mat> others;
    bool any = false;
    for (size_t j = 0; j < k; ++j) {
      if (j == i) continue;
      refs.push_back(&soft_in[j]);
      others.push_back(masks[j]);
      any = any || cv::countNonZero(masks[j]) > 0;
    }
    const cv::Mat soft = any ? FeatureClassifier::train(refs, others, feature).predict(soft_in[i])
                             : cv::Mat::zeros(masks[i].size(), CV_32F);
    set(i);
    const auto& f = predictor.embedding().frame;
    candidates[i] = propose(models, soft, o);
    truths[i] = to_work_frame(masks[i], f);
    r.images.push_back(label_candidates(candidates[i], to_work_frame(soft, f), to_work_frame(images[i], f), truths[i]));
    if (o.embedding_components > 0) {
      r.images.back().embedding = candidate_embeddings(candidates[i], embeddings[i]);
      if (extra) extra_pooled[i] = candidate_embeddings(candidates[i], extra->supports[i]);
    }
    if (on_support) on_support();
  }
  // The embedding's directions are fitted once on every support's candidates, without their labels, so the
  // leave-one-out below sees the same features the queries will.
  // Fitted on one support (fit_on_one_support), the directions are that support's alone, the others being scored
  // as queries are.
  std::vector<size_t> with_object;
  for (size_t i = 0; i < k; ++i)
    if (cv::countNonZero(masks[i]) > 0) with_object.push_back(i);
  const bool on_one = k == 1 || with_object.size() == 1;
  const size_t one = with_object.empty() ? 0 : with_object[0];
  std::vector<cv::Mat> pooled, extra_fitted;
  for (size_t i = 0; i < k; ++i)
    if (!on_one || i == one) {
      pooled.push_back(r.images[i].embedding);
      extra_fitted.push_back(extra_pooled[i]);
    }
  r.projection = EmbeddingProjection::fit(pooled, o.embedding_components);
  if (extra) r.extra_projection = EmbeddingProjection::fit(extra_fitted, o.embedding_components);
  r.extra_model = extra != nullptr;
  r.feature_names = feature_names(r, r.extra_model);
  for (size_t i = 0; i < k; ++i) {
    append_embedding_features(r, r.images[i].embedding, extra_pooled[i], candidates[i], r.images[i].features,
                              extra != nullptr);
    dump_candidates(i < names.size() ? "support_" + names[i] : "", candidates[i], r.images[i].features,
                    r.feature_names);
  }
  r.allow_empty = o.ranker.allow_empty;
  if (on_one) return fit_on_one_support(std::move(r), o, masks, one, extra != nullptr);
  const PenaltyChoice pc = choose_penalty(r.images, o.ranker);
  r.l2 = pc.l2;
  r.loo = pc.loo;
  r.loo_by_penalty = pc.by_penalty;
  r.loo_error_by_penalty = pc.error_by_penalty;
  r.penalty_rule = pc.rule;
  RankerOptions ro = o.ranker;
  ro.l2 = r.l2;
  // The last round, judged on the same held-out choices.
  r.dice_without_round = r.loo.dice;
  r.dice_with_round = r.loo.dice;
  if (o.round != RankedRound::off) {
    for (size_t i = 0; i < k; ++i) {
      const int c = r.loo.chosen[i];
      if (c < 0 || r.loo.best_score[i] < r.loo.threshold) continue;  // answered empty
      set(i);
      const MaskCandidate refined = refine_by(models, candidates[i][c]);
      r.dice_with_round[i] = dice_score(refined.mask, truths[i] >= 127.5f);
    }
  }
  r.round = use_round(o.round, r.dice_with_round, r.dice_without_round, false);
  auto sum = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); };
  if (r.round) r.loo.dice = r.dice_with_round;
  // The extra checkpoint's box round, after the last round as decided, on the same held-out choices.
  r.dice_without_extra_round = r.loo.dice;
  r.dice_with_extra_round = r.loo.dice;
  if (extra && o.extra_round != RankedRound::off) {
    for (size_t i = 0; i < k; ++i) {
      const int c = r.loo.chosen[i];
      if (c < 0 || r.loo.best_score[i] < r.loo.threshold) continue;  // answered empty
      set(i);
      const MaskCandidate done = finish_choice(models, candidates[i][c], r.round, true, o.extra_round_margin);
      r.dice_with_extra_round[i] = dice_score(done.mask, truths[i] >= 127.5f);
    }
    r.extra_round = use_round(o.extra_round, r.dice_with_extra_round, r.dice_without_extra_round, true);
    if (r.extra_round) r.loo.dice = r.dice_with_extra_round;
  }
  // Several objects per image, judged on the held-out rankers' scores of every candidate. Each object's answer
  // (after the rounds decided above) is made once per support and candidate.
  std::map<std::pair<size_t, int>, cv::Mat> answers;
  auto answer_mask = [&](size_t i, int c) -> const cv::Mat& {
    if (auto it = answers.find({i, c}); it != answers.end()) return it->second;
    cv::Mat m = candidates[i][c].mask;
    if (r.round || r.extra_round) {
      set(i);
      m = finish_choice(models, candidates[i][c], r.round, r.extra_round, o.extra_round_margin).mask;
    }
    return answers.emplace(std::pair{i, c}, m).first->second;
  };
  auto union_dice = [&](size_t i, const std::vector<int>& objects) {
    cv::Mat u = cv::Mat::zeros(truths[i].size(), CV_8UC1);
    for (int c : objects) u |= answer_mask(i, c);
    return dice_score(u, truths[i] >= 127.5f);
  };
  r.dice_one_object = r.loo.dice;
  if (o.objects_ratio != 0) {
    r.object_ratios = o.objects_ratio > 0 ? std::vector<double>{o.objects_ratio} : o.object_ratios;
    std::vector<std::vector<double>> held(k);  // the held-out ranker's score of each candidate
    for (size_t i = 0; i < k; ++i) {
      if (r.loo.chosen[i] < 0 || r.loo.best_score[i] < r.loo.threshold) continue;  // no candidate, or empty
      std::vector<const RankedImage*> others;
      for (size_t j = 0; j < k; ++j)
        if (j != i) others.push_back(&r.images[j]);
      const CandidateRanker held_out = CandidateRanker::train(others, ro);
      for (const auto& f : r.images[i].features) held[i].push_back(held_out.score(f));
    }
    for (double ratio : r.object_ratios) {
      std::vector<double> d = r.dice_one_object;
      for (size_t i = 0; i < k; ++i) {
        if (held[i].empty()) continue;
        const auto objects = choose_objects(held[i], candidates[i], ratio, o.objects_overlap, o.max_objects);
        if (objects.size() > 1) d[i] = union_dice(i, objects);
      }
      r.dice_by_objects_ratio.push_back(std::move(d));
    }
    // Ratios the supports cannot tell apart (the same held-out answers) go to the most lenient: a query's further
    // objects fall below the strictest ratio more often than the supports' do (chest X-ray at K = 2, every ratio
    // tied: one lung missed on a tenth of the queries at 0.9; docs/RESULTS.md, "One support ...").
    size_t best = 0;
    for (size_t j = 1; j < r.dice_by_objects_ratio.size(); ++j) {
      const double a = sum(r.dice_by_objects_ratio[j]), b = sum(r.dice_by_objects_ratio[best]);
      if (a > b + 1e-12 || (a >= b - 1e-12 && r.object_ratios[j] < r.object_ratios[best])) best = j;
    }
    std::vector<double> gain(k);
    for (size_t i = 0; i < k; ++i) gain[i] = r.dice_by_objects_ratio[best][i] - r.dice_one_object[i];
    size_t with_object = 0;
    r.supports_with_several_objects = 0;
    for (const auto& m : masks) {
      const int n = sizable_objects(m);
      with_object += n > 0;
      r.supports_with_several_objects += n > 1;
    }
    if (o.objects_ratio > 0 || use_several_objects(gain, with_object, r.supports_with_several_objects)) {
      r.objects_ratio = r.object_ratios[best];
      r.loo.dice = r.dice_by_objects_ratio[best];
    }
  }
  std::vector<const RankedImage*> all;
  for (const auto& im : r.images) all.push_back(&im);
  r.ranker = CandidateRanker::train(all, ro);
  r.ranker.empty_below = r.loo.threshold;
  // The leave-one-out above chose the penalty and the threshold on the very scores it reports, which flatters
  // it against the other modes. The score the automatic choice compares is nested: each support is judged by
  // a ranker whose penalty and threshold were chosen on the other supports alone.
  for (size_t i = 0; i < k; ++i) {
    std::vector<RankedImage> others;
    for (size_t j = 0; j < k; ++j)
      if (j != i) others.push_back(r.images[j]);
    const PenaltyChoice inner = choose_penalty(others, o.ranker);
    std::vector<const RankedImage*> refs;
    for (const auto& im : others) refs.push_back(&im);
    RankerOptions io = o.ranker;
    io.l2 = inner.l2;
    CandidateRanker ranker = CandidateRanker::train(refs, io);
    auto held_out_dice = [&](int c) {
      if (c < 0) return r.images[i].empty_truth ? 1.0 : 0.0;
      std::vector<int> objects{c};
      if (r.objects_ratio > 0) {
        std::vector<double> scores;
        for (const auto& f : r.images[i].features) scores.push_back(ranker.score(f));
        objects = choose_objects(scores, candidates[i], r.objects_ratio, o.objects_overlap, o.max_objects);
      }
      return objects.size() > 1 || r.round || r.extra_round ? union_dice(i, objects) : r.images[i].dice[c];
    };
    r.nested_dice_found.push_back(r.images[i].empty_truth ? 0.0 : held_out_dice(ranker.choose(r.images[i].features)));
    ranker.empty_below = inner.loo.threshold;
    r.nested_dice.push_back(held_out_dice(ranker.choose(r.images[i].features)));
  }
  return r;
}

QuerySegmentation segment_ranked(const sam::SamPredictor& predictor, const cv::Mat& image, const cv::Mat& soft,
                                 const RankedSupports& fitted, const RankedOptions& options, const std::string& name,
                                 const sam::SamPredictor* extra) {
  const RankedOptions o = with_fitted_areas(options, fitted);
  const CandidateRanker& ranker = fitted.ranker;
  const bool two_models = fitted.extra_model;
  if (two_models != (extra != nullptr))
    throw InputError("ranked mode", two_models ? "the ranker was fitted with an extra checkpoint; give it"
                                               : "the ranker was fitted without an extra checkpoint");
  const Models models{&predictor, extra};
  const auto& f = predictor.embedding().frame;
  const std::vector<MaskCandidate> cands = propose(models, soft, o);
  auto features = candidate_features(cands, to_work_frame(soft, f), to_work_frame(image, f));
  cv::Mat own, other;
  if (fitted.projection.components() > 0) own = candidate_embeddings(cands, predictor.embedding());
  if (extra && fitted.extra_projection.components() > 0) other = candidate_embeddings(cands, extra->embedding());
  append_embedding_features(fitted, own, other, cands, features, two_models);
  dump_candidates(name, cands, features, fitted.feature_names);
  QuerySegmentation q;
  q.mask = cv::Mat::zeros(f.orig_h, f.orig_w, CV_8UC1);
  std::vector<double> scores;
  for (const auto& row : features) scores.push_back(ranker.score(row));
  const std::vector<int> chosen_ones =
      choose_objects(scores, cands, fitted.objects_ratio, o.objects_overlap, o.max_objects);
  if (chosen_ones.empty()) return q;
  for (const int c : chosen_ones) {  // the best first: its score is the query's (answer_empty_from_queries)
    const MaskCandidate chosen =
        finish_choice(models, cands[c], fitted.round, fitted.extra_round, o.extra_round_margin);
    ObjectResult obj;
    if (!chosen.source.ends_with("+extra_box")) {  // the box round prompts with the box alone
      obj.prompt.points = {chosen.point};
      obj.prompt.labels = {1};
    }
    if (chosen.box) obj.prompt.box = *chosen.box;
    obj.mask = candidate_to_image(chosen, models.of(chosen).embedding().frame);
    obj.source = chosen.source;
    obj.iou = chosen.iou;
    obj.agreement = scores[c];  // the ranker's predicted IoU with the truth
    obj.prompt.area = cv::countNonZero(obj.mask);
    obj.prompt.bbox = cv::boundingRect(obj.mask);
    q.mask |= obj.mask;
    q.objects.push_back(std::move(obj));
  }
  const double top_score = scores[chosen_ones[0]];
  if (top_score < ranker.empty_below) {  // "no object": the record keeps the score, as the queries' rule does
    q.answered_empty = std::pair{top_score, ranker.empty_below};
    q.declined = q.mask;  // what a person may still take (OUT/declined/)
    q.mask = cv::Mat(q.declined.size(), CV_8UC1, cv::Scalar(0));  // a new buffer: zeros() would write into it
    q.objects.clear();
  }
  return q;
}

nlohmann::json to_json(const RankedSupports& s, const std::vector<std::string>& names) {
  nlohmann::json per = nlohmann::json::array();
  for (size_t i = 0; i < s.images.size(); ++i)
    per.push_back({{"name", i < names.size() ? names[i] : ""},
                   {"candidates", s.images[i].features.size()},
                   {"empty_truth", s.images[i].empty_truth},
                   {"held_out_score", s.loo.best_score[i] <= -1e299 ? nlohmann::json(nullptr)
                                                                    : nlohmann::json(s.loo.best_score[i])},
                   {"held_out_dice", s.loo.dice[i]},
                   {"nested_dice", i < s.nested_dice.size() ? s.nested_dice[i] : 0.0},
                   {"nested_dice_without_empty_answers",
                    i < s.nested_dice_found.size() ? s.nested_dice_found[i] : 0.0}});
  auto mean_of = [](const std::vector<double>& v) {
    double m = 0;
    for (double d : v) m += d / std::max<size_t>(1, v.size());
    return m;
  };
  nlohmann::json out = {{"ranker", s.ranker.to_json(s.feature_names)},
          {"embedding_projection", s.projection.to_json()},
          {"empty_answers", s.allow_empty ? "auto" : "never"},
          {"candidate_max_area", s.max_area},
          {"leave_one_out_mean_dice", s.loo.mean_dice()},
          {"nested_leave_one_out_mean_dice", mean_of(s.nested_dice)},
          {"penalty", {{"chosen", s.l2},
                       {"candidates", ranker_penalties()},
                       {"leave_one_out_mean_dice", s.loo_by_penalty},
                       {"leave_one_out_squared_error", s.loo_error_by_penalty},
                       {"rule", s.on_one_support && s.loo_error_by_penalty.empty() ? "one support: fixed"
                                 : s.on_one_support ? "one support: candidates left out, one standard error"
                                 : s.loo_by_penalty.size() == 1        ? "fixed"
                                 : s.penalty_rule == PenaltyRule::dice ? "dice"
                                                                       : "error"}}},
          {"last_round", {{"used", s.round},
                          {"leave_one_out_mean_dice_without", mean_of(s.dice_without_round)},
                          {"leave_one_out_mean_dice_with", mean_of(s.dice_with_round)}}},
          {"several_objects", {{"ratio", s.objects_ratio},
                               {"supports_with_several_objects", s.supports_with_several_objects},
                               {"ratios_judged", s.object_ratios},
                               {"leave_one_out_mean_dice_one_object", mean_of(s.dice_one_object)},
                               {"leave_one_out_mean_dice_by_ratio", [&] {
                                  std::vector<double> m;
                                  for (const auto& d : s.dice_by_objects_ratio) m.push_back(mean_of(d));
                                  return m;
                                }()}}},
          {"extra_box_round", {{"used", s.extra_round},
                               {"leave_one_out_mean_dice_without", mean_of(s.dice_without_extra_round)},
                               {"leave_one_out_mean_dice_with", mean_of(s.dice_with_extra_round)},
                               {"per_support_without", s.dice_without_extra_round},
                               {"per_support_with", s.dice_with_extra_round},
                               {"automatic_rule",
                                "used unless the supports it changed lose beyond one standard error of their "
                                "paired differences (fewer than three changed: the means decide)"}}},
          {"supports", per}};
  if (s.extra_projection.components() > 0) out["extra_embedding_projection"] = s.extra_projection.to_json();
  if (s.extra_model) out["extra_candidate_max_area"] = s.extra_max_area;
  return out;
}

nlohmann::json answer_empty_from_queries(const Dataset& data, RankedSupports& supports, SegmentRun& run,
                                         const fs::path& out_root, bool overlays, EmptyFrom from,
                                         size_t min_queries) {
  std::vector<double> empty_supports, object_supports, scores;
  for (size_t i = 0; i < supports.loo.best_score.size(); ++i)
    if (supports.loo.best_score[i] > -1e299)
      (supports.loo.empty_truth[i] ? empty_supports : object_supports).push_back(supports.loo.best_score[i]);
  // Each query's best score: its chosen object's, or the one an earlier pass blanked kept in its record.
  std::vector<std::optional<double>> best(run.queries.size());
  for (size_t i = 0; i < run.queries.size(); ++i) {
    const nlohmann::json& rec = run.queries[i].record;
    if (rec.contains("answered_empty"))
      best[i] = rec["answered_empty"]["score"].get<double>();
    else if (!rec["objects"].empty())
      best[i] = rec["objects"][0]["agreement"].get<double>();
    if (best[i]) scores.push_back(*best[i]);
  }
  const bool supports_have_threshold = supports.allow_empty && supports.loo.threshold > -1e299;
  nlohmann::json out = {{"supports_threshold", supports_have_threshold ? nlohmann::json(supports.loo.threshold)
                                                                       : nlohmann::json(nullptr)}};
  const bool enough = from != EmptyFrom::automatic || scores.size() >= min_queries;
  auto mix = supports.allow_empty && enough ? mixture_threshold(scores, empty_supports, object_supports)
                                            : std::nullopt;
  // The labels overrule the fit: a threshold that would answer most supports with an object "empty" (their
  // held-out scores) has split the objects' scores, not objects from empty images. `queries` keeps it anyway.
  // (The same test on the supports without the object, refusing a threshold at or below most of their scores,
  // lowered the whole BUSI folder's lesion Dice from 0.648 to 0.621: docs/RESULTS.md, "One lesion support".)
  size_t objects_below = 0;
  if (mix)
    for (double v : object_supports) objects_below += v < mix->threshold;
  const bool contradicts = mix && 2 * objects_below > object_supports.size();
  // Nor may the fit put a share of the images in its "no object" group that the supports, K draws of the same
  // folder, make implausible: outside the 95% exact binomial interval of their own share. On the whole BUSI folder
  // with k-means seed 1 (one normal support in ten: at most 0.445) the fit split the lesions' scores, put 0.54 of
  // the images in that group and answered 204 of the 510 lesion images empty (docs/RESULTS.md, "The 'no object'
  // share the supports allow").
  const auto share = empty_supports.empty() ? std::pair<double, double>{0.0, 1.0}
                                            : share_interval(empty_supports.size(),
                                                             empty_supports.size() + object_supports.size());
  const bool implausible =
      mix && !contradicts && (mix->weight_empty < share.first || mix->weight_empty > share.second);
  if (contradicts || implausible) {
    out["rejected_mixture"] = {{"threshold", mix->threshold},
                               {"reason", contradicts ? "threshold" : "share"},
                               {"supports_with_object_below", objects_below},
                               {"supports_with_object", object_supports.size()},
                               {"weight_without_object", mix->weight_empty},
                               {"supports_share_interval", {share.first, share.second}}};
    if (from == EmptyFrom::automatic) mix.reset();
  }
  double threshold = -1e300;
  if (mix) {
    threshold = mix->threshold;
    out["source"] = "queries";
    out["mixture"] = {{"weight_without_object", mix->weight_empty},
                      {"mean", {mix->mean_empty, mix->mean_object}},
                      {"sd", {mix->sd_empty, mix->sd_object}}};
  } else if (from == EmptyFrom::automatic && supports_have_threshold) {
    const std::string why = !enough      ? "fewer scored queries than " + std::to_string(min_queries)
                            : contradicts ? "its threshold would answer most supports with an object empty"
                            : implausible ? "its share of images without the object lies outside the 95% interval "
                                            "of the supports' share"
                                          : "no two-component fit";
    out["why_not_queries"] = why;
    // The supports' threshold faces the share test too, as a count: the queries it answers empty beside the
    // supports without the object must be a split of one folder that chance gives at least 2.5% of the time
    // (Fisher's exact test, the 95% interval's tail). On 42 BUSI images with one normal support of five, it
    // answered 30 of 37 queries empty (24 of 31 lesion images; probability 0.013) and the lesion Dice fell from
    // 0.674 to 0.198 (docs/RESULTS.md, "Small folders").
    size_t below = 0;
    for (double v : scores) below += v < supports.loo.threshold;
    const size_t n_supports = empty_supports.size() + object_supports.size();
    const double p = fewer_in_supports_probability(empty_supports.size(), n_supports, below, scores.size());
    if (p < 0.025) {
      out["rejected_supports_threshold"] = {{"threshold", supports.loo.threshold},
                                            {"queries_below", below},
                                            {"queries_scored", scores.size()},
                                            {"supports_without_object", empty_supports.size()},
                                            {"supports", n_supports},
                                            {"probability", p}};
    } else {
      threshold = supports.loo.threshold;
      out["source"] = "supports";
      out["supports_threshold_probability"] = p;  // the test it passed, on record
    }
  }
  supports.ranker.empty_below = threshold;
  out["queries_scored"] = scores.size();
  if (threshold <= -1e299) {
    out["threshold"] = nullptr;
    out["why_none"] = supports.on_one_support
                          ? "the ranker was fitted on the one support that shows the object: no held-out score of "
                            "an object to start from"
                      : out.contains("rejected_supports_threshold")
                          ? "the supports' threshold would answer more queries empty than the supports' own share "
                            "makes plausible (Fisher's exact test below 2.5%): every query keeps its answer"
                          : "needs supports with and without the object, and a two-component fit";
    out["queries_answered_empty"] = 0;
    return out;
  }
  size_t blanked = 0;
  for (size_t i = 0; i < run.queries.size(); ++i) {
    if (!best[i] || *best[i] >= threshold) continue;
    SegmentedQuery& q = run.queries[i];
    q.result.objects.clear();
    if (!q.record.contains("answered_empty")) {
      q.record["answered_empty"] = {{"score", *best[i]}, {"threshold", threshold}};
      q.record["objects"] = nlohmann::json::array();
      q.record["confidence"] = 0.0;
    }
    const fs::path prompts = out_root / "prompts" / (q.name + ".json");
    if (fs::exists(prompts)) {  // the prompt SAM got stays on record, with the answer that replaced it
      nlohmann::json j = nlohmann::json::parse(std::ifstream(prompts));
      j["answered_empty"] = q.record["answered_empty"];
      write_json_atomic(prompts, j);
    }
    const fs::path mask_file = out_root / "masks" / (q.name + ".png");
    const fs::path declined_file = out_root / "declined" / (q.name + ".png");
    const cv::Mat answer = read_mask(mask_file);
    // Kept before the mask is blanked, so that the decision run again (a resumed run) finds it there.
    cv::Mat declined;
    if (fs::exists(declined_file)) {
      declined = read_mask(declined_file);
    } else if (cv::countNonZero(answer) > 0) {
      fs::create_directories(declined_file.parent_path());
      write_png(declined_file, answer);
      declined = answer;
    }
    const cv::Mat empty = cv::Mat::zeros(answer.size(), CV_8UC1);  // the image's size
    write_png(mask_file, empty);
    if (overlays) {
      const Sample& s = data.at(q.name);
      const cv::Mat image = read_image(s.image);
      const cv::Mat truth = s.mask ? read_truth(s, image.size()) : cv::Mat();
      write_png(out_root / "overlay" / (q.name + ".png"),
                draw_segmentation_overlay(image, empty, truth, load_coarse_input(out_root, q.name).coarse, {},
                                          declined));
    }
    ++blanked;
  }
  out["threshold"] = threshold;
  out["queries_answered_empty"] = blanked;
  return out;
}

std::filesystem::path resolve_extra_checkpoint(const std::string& spec, const std::filesystem::path& main) {
  if (spec.empty() || spec == "none") return {};
  if (spec != "auto") {
    if (!std::filesystem::is_regular_file(spec)) throw InputError(spec, "no such checkpoint file");
    return spec;
  }
  const std::filesystem::path cache = sam::checkpoint_cache();
  if (cache.empty()) return {};
  const std::filesystem::path lite = cache / "lite_medsam.pth";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(lite, ec)) return {};
  std::filesystem::path own = main;
  if (own.empty()) {
    try {
      own = sam::default_checkpoint();
    } catch (const InputError&) {
      return lite;  // the run itself will say that its checkpoint is missing
    }
  }
  if (std::filesystem::equivalent(lite, own, ec)) return {};  // LiteMedSAM is already the run's checkpoint
  try {  // a damaged cache costs the second checkpoint, not the run
    (void)sam::detect_sam_config(sam::Checkpoint::open(lite));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warning: %s; the run goes on without LiteMedSAM (scripts/fetch_lite_medsam.sh fetches it "
                 "again)\n", e.what());
    return {};
  }
  return lite;
}

}  // namespace sammpa
