#include "pipeline/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <set>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/output_dir.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "io/image_io.h"
#include "io/overlay.h"
#include "pipeline/ranked.h"
#include "pipeline/resume.h"
#include "pipeline/select_features.h"
#include "pipeline/self_config.h"
#include "sam/nn/dnnl_context.h"
#include "sam/sam_model.h"

namespace fs = std::filesystem;

namespace sammpa {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void require_support_masks(const Dataset& ds, const std::vector<std::string>& support) {
  std::string missing;
  for (const auto& n : support)
    if (!ds.at(n).mask) missing += (missing.empty() ? "" : ", ") + n;
  if (!missing.empty())
    throw InputError(ds.root / "masks",
                     "annotate the selected support images first (masks/NAME.png), missing: " + missing);
}

// What the supports' masks tell before any work. Objects smaller than the prompt step's or the candidates' size
// floor are never segmented: where the supports show smaller objects than the defaults allow, the floors follow
// them (lowered_size_floor). Supports that show no object at all get a warning.
struct SupportObjects {
  int most = 0;                          // the most objects one support's mask holds (sizable_objects)
  std::vector<std::string> with_object;  // the supports whose masks show one
};
SupportObjects follow_the_supports(PipelineOptions& o, const Dataset& ds, const std::vector<std::string>& support) {
  std::vector<cv::Mat> masks;
  for (const auto& n : support)  // a support's mask of the wrong size is an error here, before any work
    masks.push_back(read_truth(ds.at(n), read_image_size(ds.at(n).image)));
  if (o.prompt_floor_from_supports)
    o.segment.prompt.min_object_area = lowered_size_floor(o.segment.prompt.min_object_area, masks);
  o.ranked.candidates.min_area = lowered_size_floor(o.ranked.candidates.min_area, masks);
  o.ranked.extra_candidates.min_area = lowered_size_floor(o.ranked.extra_candidates.min_area, masks);
  // Nothing to learn from: every answer will be empty. Selection cannot know (it runs before the annotation),
  // and on BUSI k-centroid picked two normal images at K = 2; the person who annotated them can choose others.
  SupportObjects shown;
  for (size_t i = 0; i < masks.size(); ++i) {
    const int n = sizable_objects(masks[i]);
    shown.most = std::max(shown.most, n);
    if (n > 0) shown.with_object.push_back(support[i]);
  }
  if (shown.most == 0)
    std::fprintf(stderr, "warning: none of the %zu support masks shows an object, so every query will be answered "
                 "empty; give supports that show it (--support NAME,...)\n", masks.size());
  return shown;
}

// Supports none of whose masks shows an object teach nothing (every answer would be empty; on BUSI, k-centroid
// drew a normal image at K = 1 and two at K = 2). A person who finds nothing to outline takes the next image
// the selection offers: the alternates, round by round over the supports; the first that shows an object takes
// its support's place. The images passed over were annotated (empty), so they are set aside: neither supports
// nor queries, never scored. Returns them, the replaced support first; none when nothing was replaced.
std::vector<std::string> replace_empty_supports(Dataset& ds, Selection& sel) {
  auto shows_object = [&](const std::string& name) {
    const Sample& s = ds.at(name);
    return s.mask && sizable_objects(read_truth(s, read_image_size(s.image))) > 0;
  };
  for (const auto& n : sel.support)
    if (shows_object(n)) return {};
  std::vector<std::string> passed;
  for (size_t round = 0; round < kAlternates; ++round)
    for (size_t i = 0; i < sel.support.size() && i < sel.alternates.size(); ++i) {
      if (round >= sel.alternates[i].size()) continue;
      const std::string& a = sel.alternates[i][round];
      const auto index = ds.index_of(a);
      if (!index || !ds.samples[*index].mask) continue;  // not in this folder, or not annotated: nothing known
      if (std::find(sel.support.begin(), sel.support.end(), a) != sel.support.end() ||
          std::find(passed.begin(), passed.end(), a) != passed.end())
        continue;  // a list given by hand may name an image twice
      if (!shows_object(a)) {
        passed.push_back(a);
        continue;
      }
      if (ds.size() <= sel.support.size() + passed.size() + 1) return {};  // no query would be left
      std::printf("step 1: no support mask shows an object; %s, the next image the selection offers that shows "
                  "one, replaces %s (set aside, annotated without object:", a.c_str(), sel.support[i].c_str());
      passed.insert(passed.begin(), sel.support[i]);
      for (const auto& n : passed) std::printf(" %s", n.c_str());
      std::printf("; --keep-empty-supports keeps them)\n");
      sel.support[i] = a;
      std::erase_if(ds.samples, [&](const Sample& s) { return std::find(passed.begin(), passed.end(), s.name) !=
                                                               passed.end(); });
      return passed;
    }
  return {};  // no alternate shows one either: follow_the_supports warns
}

// Overlays of the coarse masks alone (when SAM is off).
void draw_coarse_overlays(const Dataset& ds, const std::vector<QueryResult>& queries, const fs::path& out_root,
                          int threads) {
  fs::create_directories(out_root / "overlay");
  Progress progress("overlays", queries.size());
  parallel_for(queries.size(), threads, [&](size_t i) {
    const Sample& s = ds.at(queries[i].name);
    cv::Mat img = read_image(s.image);
    cv::Mat pred = read_mask(out_root / "coarse" / (s.name + ".png"), img.size());
    cv::Mat truth = s.mask ? read_truth(s, img.size()) : cv::Mat();
    write_png(out_root / "overlay" / (s.name + ".png"), draw_overlay(img, pred, truth));
    progress.tick();
  });
  progress.finish();
}

// Step 2 in SAM's feature space: embeddings of the supports and queries (cached for steps 3-4), a classifier
// learned from the supports, a soft map and coarse mask (soft >= 0.5) per query, saved for steps 3-4. `fused`:
// each soft map is first averaged with the one registration saved for that query.
PropagationRun propagate_by_features(const Dataset& ds, const std::vector<std::string>& support,
                                     const PipelineOptions& o, const fs::path& out_root, bool fused) {
  const auto start = std::chrono::steady_clock::now();
  const EmbeddingSource src = open_embedding_source(o.segment);
  sam::SamPredictor predictor(src.model);
  const std::set<std::string> support_set(support.begin(), support.end());
  std::vector<std::string> queries;
  for (const auto& s : ds.samples)
    if (!support_set.count(s.name)) queries.push_back(s.name);
  Progress progress(fused ? "propagate (features, fused)" : "propagate (features)", support.size() + queries.size());
  std::vector<sam::ImageEmbedding> embeddings;
  std::vector<cv::Mat> masks;
  embed_supports(ds, support, src, predictor, embeddings, masks, [&] { progress.tick(); });
  // The ranked mode's second checkpoint, if any, joins the classifier's input (RankedOptions::extra_soft_map).
  const auto extra = o.ranked.extra_soft_map ? open_extra_source(ds, support, o) : nullptr;
  if (extra) embeddings = stack_each(embeddings, extra->model.supports);
  std::vector<const sam::ImageEmbedding*> refs;
  for (const auto& e : embeddings) refs.push_back(&e);
  const FeatureClassifier classifier = FeatureClassifier::train(refs, masks, o.feature);
  fs::create_directories(out_root / "coarse");
  fs::create_directories(out_root / "soft");
  PropagationRun run;
  run.support = support;
  for (const auto& name : queries) {
    const auto t0 = std::chrono::steady_clock::now();
    const cv::Mat image = read_image(ds.at(name).image);
    src.set(predictor, image, name);
    if (extra) extra->source.set(*extra->predictor, image, name);
    cv::Mat soft = classifier.predict(extra ? stack_embeddings(predictor.embedding(), extra->predictor->embedding())
                                            : predictor.embedding());
    if (fused) cv::addWeighted(soft, 0.5, load_coarse_input(out_root, name).soft, 0.5, 0.0, soft);
    cv::Mat mask = soft >= 0.5f, soft8;
    soft.convertTo(soft8, CV_8U, 255.0);
    write_png(out_root / "coarse" / (name + ".png"), mask);
    write_png(out_root / "soft" / (name + ".png"), soft8);
    save_propagated_soft(out_root, name, soft);
    QueryResult q;
    q.name = name;
    q.seconds = seconds_since(t0);
    run.queries.push_back(std::move(q));
    progress.tick();
  }
  progress.finish();
  run.seconds = seconds_since(start);
  return run;
}

// Whether feature propagation's classifier sees a second checkpoint's embedding beside the run's.
bool second_embedding_in_soft_map(const PipelineOptions& o) {
  return !o.ranked.extra_checkpoint.empty() && o.ranked.extra_soft_map;
}

nlohmann::json feature_options_json(const PipelineOptions& o) {
  return {{"l2", o.feature.l2}, {"iterations", o.feature.iterations}, {"image_relative", o.feature.image_relative},
          {"position", o.feature.position}, {"extra_checkpoint_in_soft_map", second_embedding_in_soft_map(o)}};
}

}  // namespace

Propagation parse_propagation(const std::string& n) {
  if (n == "registration") return Propagation::registration;
  if (n == "feature") return Propagation::feature;
  if (n == "fused") return Propagation::fused;
  if (n == "ranked") return Propagation::ranked;
  if (n == "auto") return Propagation::automatic;
  throw InputError("--propagation", "unknown mode '" + n + "' (registration, feature, fused, ranked, auto)");
}

OneSupportChoice one_support_mode(const PipelineOptions& o, int support_objects) {
  if (!o.sam)
    return {Propagation::registration,
            "without SAM (--no-sam) there is no leave-one-out: registration warps the supports' masks"};
  if (support_objects == 0)
    return {Propagation::registration,
            "the only support's mask is empty: nothing to learn, registration (every answer empty)"};
  if (support_objects == 1)
    return {Propagation::ranked,
            "one support, no leave-one-out possible, and its mask is one object: the ranked mode (SAM's candidates "
            "over the whole image, chosen by a ranker fitted on the support's own; it never answers \"no object\", "
            "which needs a second support that shows the object; --propagation registration to warp its mask "
            "instead)"};
  if (!second_embedding_in_soft_map(o))
    return {Propagation::registration,
            "one support, no leave-one-out possible, its mask several objects, and no second checkpoint in the soft "
            "map (LiteMedSAM not cached or --ranked-extra-checkpoint none): registration warps its mask"};
  return {Propagation::feature,
          "one support, no leave-one-out possible, its mask several objects: feature propagation, since a second "
          "checkpoint's embedding joins the soft map (--propagation registration to warp its mask instead)"};
}

std::string propagation_name(Propagation p) {
  switch (p) {
    case Propagation::registration: return "registration";
    case Propagation::feature: return "feature";
    case Propagation::fused: return "fused";
    case Propagation::ranked: return "ranked";
    case Propagation::automatic: break;
  }
  return "auto";
}

bool names_share_prefixes(const std::vector<std::string>& names) {
  std::set<std::string> groups;
  for (const auto& n : names) groups.insert(name_prefix_group(n));
  return !names.empty() && 2 * groups.size() <= names.size();
}

EvalReport score_masks(const Dataset& data, const std::vector<std::string>& support, const fs::path& masks,
                       bool group_by_prefix, const fs::path& prefix, int threads) {
  EvalOptions eo;
  eo.threads = threads;
  eo.pred_dir = masks;
  eo.support = support;
  eo.group_by_prefix = group_by_prefix;
  EvalReport report = evaluate(data, eo);
  write_json_atomic(prefix.string() + ".json", report_json(report));
  write_text_atomic(prefix.string() + ".csv", report_csv(report));
  return report;
}

Dataset usable_masks_or_warn(const Dataset& dataset, const std::vector<std::string>& support) {
  std::vector<std::string> unusable;
  Dataset ds = with_usable_masks(dataset, &unusable, support);
  for (size_t i = 0; i < unusable.size() && i < 5; ++i)
    std::fprintf(stderr, "warning: %s: the mask is not used (it cannot annotate a support; no score, no outline)\n",
                 unusable[i].c_str());
  if (unusable.size() > 5) std::fprintf(stderr, "warning: %zu more masks like these\n", unusable.size() - 5);
  return ds;
}

PipelineResult run_pipeline(const Dataset& dataset, const PipelineOptions& options, const fs::path& out_root) {
  PipelineOptions o = options;  // its size floors follow the supports (follow_the_supports)
  Dataset ds = dataset;  // less the queries' unusable masks, once the supports are known
  PipelineResult r;
  const bool records = !o.resume_key.empty();
  if (records && read_work_key(out_root) != o.resume_key) {
    fs::remove_all(out_root / kWorkFolder);  // records of another run are never used
    write_work_key(out_root, o.resume_key);
  }
  auto t0 = std::chrono::steady_clock::now();
  if (o.support.empty()) {
    r.selection = select_with_features(ds, o.select, o.segment);
    write_selection(out_root / "support.json", selection_json(ds, o.select, r.selection));
  } else {
    for (const auto& n : o.support)
      if (!ds.index_of(n)) throw InputError(ds.root / "images", "support image '" + n + "' is not in the data set");
    if (o.support.size() >= ds.size()) throw InputError("--support", "every image is a support: nothing to segment");
    r.selection.support = o.support;
    r.selection.alternates = o.support_alternates;
    write_selection(out_root / "support.json",
                    {{"strategy", "given"}, {"k", o.support.size()}, {"support", o.support}});
  }
  r.seconds_select = seconds_since(t0);
  std::printf("step 1 select: %zu support image(s) to annotate:", r.selection.support.size());
  for (const auto& n : r.selection.support) std::printf(" %s", n.c_str());
  std::printf("\n");
  require_support_masks(ds, r.selection.support);
  ds = usable_masks_or_warn(ds, r.selection.support);
  for (const auto& n : o.support_set_aside)  // an earlier run's, given with its supports
    if (ds.index_of(n) && std::find(r.selection.support.begin(), r.selection.support.end(), n) ==
                              r.selection.support.end()) {
      r.set_aside.push_back(n);
      std::erase_if(ds.samples, [&](const Sample& s) { return s.name == n; });
    }
  if (!o.keep_empty_supports) {
    const std::vector<std::string> now = replace_empty_supports(ds, r.selection);
    r.set_aside.insert(r.set_aside.end(), now.begin(), now.end());
  }
  if (!r.set_aside.empty()) {
    nlohmann::json sj = o.support.empty() ? selection_json(dataset, o.select, r.selection)
                                          : nlohmann::json{{"strategy", "given"},
                                                           {"k", r.selection.support.size()},
                                                           {"support", r.selection.support},
                                                           {"alternates", r.selection.alternates}};
    sj["set_aside"] = r.set_aside;
    write_selection(out_root / "support.json", sj);
  }
  const SupportObjects objects = follow_the_supports(o, ds, r.selection.support);

  // Step 2. Each query's float soft map waits on disk for steps 3-4 (its coarse mask is coarse/NAME.png): held
  // in memory, the maps of a few hundred images took gigabytes of heap.
  t0 = std::chrono::steady_clock::now();
  PropagateOptions po = o.propagate;
  po.on_query = [&](const std::string& name, const cv::Mat&, const cv::Mat& soft) {
    save_propagated_soft(out_root, name, soft);
  };
  r.propagation_used = o.propagation;
  std::optional<RankedSupports> ranked;
  // Leave-one-out judges a mode by the held-out supports that show the object, each found from the others: with
  // only one such support it would be found from supports without any (every mode scores 0, registration wins
  // the tie), so the one-support rule decides on it, as at K = 1.
  if (o.propagation == Propagation::automatic) {
    if (objects.with_object.size() >= 2 && o.sam) {
      LeaveOneOut loo = choose_by_leave_one_out(ds, r.selection.support, o, out_root / ".leave-one-out");
      write_json_atomic(out_root / "self_config.json", to_json(loo));
      r.propagation_used = loo.chosen;
      std::printf("self-configuration (leave-one-out on %zu supports, Dice on the %zu compared):",
                  r.selection.support.size(), compared_supports(loo).size());
      for (const auto& [mode, dice] : loo.compared) std::printf(" %s %.3f", mode.c_str(), dice);
      std::printf(" -> %s%s%s%s%s\n", propagation_name(loo.chosen).c_str(),
                  loo.chosen == Propagation::ranked && loo.ranked->extra_model ? " (two checkpoints)" : "",
                  loo.keep_coarse ? ", its coarse masks as final (steps 3-4 lowered the supports' Dice)" : "",
                  loo.why.empty() ? "" : "; ", loo.why.c_str());
      if (loo.chosen == Propagation::ranked) ranked = std::move(loo.ranked);
      if (loo.keep_coarse) o.sam = false, r.steps_3_4_skipped = true;
    } else {
      const OneSupportChoice one = one_support_mode(o, objects.most);
      r.propagation_used = one.mode;
      r.propagation_why = one.why;
      if (r.selection.support.size() >= 2 && o.sam)
        r.propagation_why = objects.with_object.empty()
                                ? "no support's mask shows an object: nothing to learn, registration (every answer "
                                  "empty)"
                                : "only " + objects.with_object[0] + " of the " +
                                      std::to_string(r.selection.support.size()) +
                                      " supports shows the object, so leave-one-out cannot judge a mode (the held-out "
                                      "support would be found from supports without it); the one-support rule on "
                                      "it: " + one.why;
      std::printf("self-configuration needs two supports that show the object, and SAM: %s\n",
                  r.propagation_why.c_str());
    }
  }
  const bool fused = r.propagation_used == Propagation::fused;
  if (r.propagation_used == Propagation::registration || fused) {
    std::vector<QueryResult> kept;  // from an interrupted run's records
    // (fused: never, since the coarse masks those records point to were overwritten by the fused ones)
    if (records && !fused) {
      const std::set<std::string> support_set(r.selection.support.begin(), r.selection.support.end());
      for (const auto& s : ds.samples) {
        if (support_set.count(s.name)) continue;
        if (auto q = load_propagated(out_root, s.name)) {
          kept.push_back(std::move(*q));
        } else {
          po.queries.push_back(s.name);
        }
      }
      po.on_done = [&](const QueryResult& q) { save_propagated(out_root, q); };
    }
    if (kept.empty() || !po.queries.empty()) r.propagation = propagate_dataset(ds, r.selection.support, po, out_root);
    r.propagation.support = r.selection.support;
    r.resumed_coarse = kept.size();
    for (auto& q : kept) r.propagation.queries.push_back(std::move(q));
    auto in_data_order = [&](const QueryResult& a, const QueryResult& b) {
      return *ds.index_of(a.name) < *ds.index_of(b.name);
    };
    std::stable_sort(r.propagation.queries.begin(), r.propagation.queries.end(), in_data_order);
    nlohmann::json pj = to_json(r.propagation, o.propagate);
    if (fused) {
      // propagation.json keeps registration's per-query scores; the coarse masks become the fused ones.
      const PropagationRun features = propagate_by_features(ds, r.selection.support, o, out_root, true);
      r.propagation.seconds += features.seconds;
      pj["mode"] = "fused";
      pj["fused_with_feature"] = feature_options_json(o);
    }
    write_json_atomic(out_root / "propagation.json", pj);
  } else {
    r.propagation = propagate_by_features(ds, r.selection.support, o, out_root, false);
    nlohmann::json names = nlohmann::json::array();
    for (const auto& q : r.propagation.queries) names.push_back(q.name);
    write_json_atomic(out_root / "propagation.json",
                      {{"mode", "feature"}, {"support", r.selection.support}, {"queries", names},
                       {"options", feature_options_json(o)},
                       {"summary", {{"queries", names.size()}, {"seconds", r.propagation.seconds}}}});
  }
  r.seconds_propagate = seconds_since(t0);
  std::printf("step 2 propagate: %zu coarse masks in %.1f s\n", r.propagation.queries.size(), r.seconds_propagate);
  if (r.resumed_coarse) std::printf("  (%zu of them kept from the interrupted run)\n", r.resumed_coarse);

  std::vector<std::string> queries;
  for (const auto& q : r.propagation.queries) queries.push_back(q.name);
  if (o.sam) {
    t0 = std::chrono::steady_clock::now();
    SegmentOptions so = o.segment;
    if (records) so.records = segment_records(out_root);
    std::unique_ptr<ExtraSource> extra;  // the ranked mode's second checkpoint, if any
    const bool from_queries = o.ranked.empty_from != EmptyFrom::supports && o.ranked.ranker.allow_empty;
    if (r.propagation_used == Propagation::ranked) {
      // With one support that shows the object among several, the ranked mode (chosen by the one-support rule,
      // or asked for) is fitted on it alone, as at K = 1 (fit_ranker): fitted on all, its choices by leave-one-out
      // would find the held-out lesion from normal images only (on two BUSI protocol sets every query was
      // answered empty). The normal supports are scored as queries are (ranker.json, report.html).
      if (!ranked) ranked = fit_ranker_on_supports(ds, r.selection.support, o);
      // With the threshold from the queries' scores, every query first gets its best candidate.
      if (from_queries) ranked->ranker.empty_below = -1e300;
      else {
        nlohmann::json rj = to_json(*ranked, r.selection.support);
        if (o.ranked.ranker.allow_empty) rj["empty_answers"] = "supports";
        write_json_atomic(out_root / "ranker.json", rj);
      }
      extra = open_extra_source(ds, {}, o);
      so.segment_one = [&](const sam::SamPredictor& p, const std::string& name, const cv::Mat& image,
                           const CoarseInput& in) {
        if (extra) extra->source.set(*extra->predictor, image, name);
        return segment_ranked(p, image, in.soft, *ranked, o.ranked, name, extra ? extra->predictor.get() : nullptr);
      };
    }
    r.segment = segment_dataset(
        ds, queries,
        [&](const std::string& name) { return load_coarse_input(out_root, name); },
        so, out_root);
    if (r.propagation_used == Propagation::ranked && from_queries) {
      const nlohmann::json decided = answer_empty_from_queries(ds, *ranked, r.segment, out_root, o.segment.overlays,
                                                               o.ranked.empty_from, o.ranked.empty_from_queries_min);
      nlohmann::json rj = to_json(*ranked, r.selection.support);
      rj["empty_answers"] = o.ranked.empty_from == EmptyFrom::queries ? "queries" : "auto";
      rj["empty_from_queries"] = decided;
      write_json_atomic(out_root / "ranker.json", rj);
      if (decided["threshold"].is_number()) {
        std::printf("\"no object\" threshold %.4f from the %s' scores: %zu of %zu queries answered empty\n",
                    decided["threshold"].get<double>(), decided["source"].get<std::string>().c_str(),
                    decided["queries_answered_empty"].get<size_t>(), r.segment.queries.size());
      } else if (decided.contains("rejected_supports_threshold")) {
        const nlohmann::json& rs = decided["rejected_supports_threshold"];
        std::printf("no \"no object\" answer: the supports' threshold %.4f would answer %zu of %zu queries empty, "
                    "more than their own share (%zu of %zu without the object) makes plausible (Fisher's exact test "
                    "%.4f)\n", rs["threshold"].get<double>(), rs["queries_below"].get<size_t>(),
                    rs["queries_scored"].get<size_t>(), rs["supports_without_object"].get<size_t>(),
                    rs["supports"].get<size_t>(), rs["probability"].get<double>());
      }
    }
    write_json_atomic(out_root / "segment.json", to_json(r.segment, o.segment));
    r.resumed_final = r.segment.resumed;
    r.seconds_segment = seconds_since(t0);
    std::printf("steps 3-4 prompt, SAM (%s), refine: %zu final masks in %.1f s (%zu embeddings reused)\n",
                r.segment.model_type.c_str(), r.segment.queries.size(), r.seconds_segment,
                r.segment.embeddings_reused);
    if (r.resumed_final) std::printf("  (%zu of them kept from the interrupted run)\n", r.resumed_final);
  } else {
    fs::create_directories(out_root / "masks");
    for (const auto& name : queries)
      fs::copy_file(out_root / "coarse" / (name + ".png"), out_root / "masks" / (name + ".png"),
                    fs::copy_options::overwrite_existing);  // a resumed run may hold them already
    if (o.segment.overlays) draw_coarse_overlays(ds, r.propagation.queries, out_root, o.propagate.threads);
  }

  bool has_truth = !queries.empty();
  for (const auto& n : queries) has_truth = has_truth && ds.at(n).mask.has_value();
  if (has_truth) {
    t0 = std::chrono::steady_clock::now();
    const bool groups = o.group_by_prefix && names_share_prefixes(queries);
    const int t = o.propagate.threads;
    r.coarse_scores = score_masks(ds, r.selection.support, out_root / "coarse", groups, out_root / "eval_coarse", t);
    r.final_scores = score_masks(ds, r.selection.support, out_root / "masks", groups, out_root / "eval", t);
    r.seconds_score = seconds_since(t0);
  }

  const fs::path shown = o.dataset_path.empty() ? ds.root : o.dataset_path;
  nlohmann::json run = {{"dataset", fs::absolute(shown).lexically_normal().string()},
                        {"images", ds.size()},
                        {"support", r.selection.support},
                        {"select", {{"strategy", o.support.empty() ? select_strategy_name(o.select.strategy) : "given"},
                                    {"k", o.support.empty() ? static_cast<size_t>(o.select.k) : o.support.size()},
                                    {"seed", o.select.seed},
                                    {"set_aside", r.set_aside}}},
                        {"propagation", propagation_name(r.propagation_used)},
                        {"propagation_asked", propagation_name(o.propagation)},
                        {"sam", o.sam},
                        {"steps_3_4_skipped_by_leave_one_out", r.steps_3_4_skipped},
                        {"seconds", {{"select", r.seconds_select}, {"propagate", r.seconds_propagate},
                                     {"segment", r.seconds_segment}, {"score", r.seconds_score}}}};
  if (!r.propagation_why.empty()) run["propagation_why"] = r.propagation_why;
  // SAMMPA_BF16=1 on an AMX CPU: TinyViT's products on bf16 inputs (not exact to the official code), in every
  // step that encodes (feature propagation and the leave-one-out too, even where steps 3-4 are skipped).
  run["encoder_products"] = sam::nn::detail::bf16_products() ? "bf16" : "fp32";
  if (o.sam) {
    run["checkpoint"] = r.segment.checkpoint;
    if (ranked && ranked->extra_model)
      run["ranked_extra_checkpoint"] = fs::absolute(o.ranked.extra_checkpoint).lexically_normal().string();
    run["prompt"] = to_json(o.segment.prompt);
    run["refine"] = to_json(o.segment.refine);
  }
  if (r.final_scores) {
    run["dice"] = {{"coarse", r.coarse_scores->overall.dice.mean}, {"final", r.final_scores->overall.dice.mean}};
  }
  if (records) run["resumed"] = {{"coarse", r.resumed_coarse}, {"final", r.resumed_final}};
  fs::remove_all(out_root / kWorkFolder);
  write_json_atomic(out_root / "run.json", run);
  return r;
}

}  // namespace sammpa
