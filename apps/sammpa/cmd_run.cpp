// `sammpa run`: the whole job on a dataset folder (run_pipeline): select the support set, propagate its masks
// to every other image, prompt SAM and refine, score coarse and final masks where ground truth exists, and draw
// overlays a person can check. With no --data, runs on a synthetic phantom set (written into the output
// folder) so that it works on a fresh machine.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "commands.h"
#include "common/error.h"
#include "common/output_dir.h"
#include "io/phantom.h"
#include "pipeline/pipeline.h"
#include "pipeline/resume.h"
#include "report/report.h"
#include "select/support_list.h"
#include "segment_options.h"

namespace fs = std::filesystem;
using namespace sammpa;

namespace {

struct RunArgs {
  std::string data, out, strategy = "kcentroid", fusion = "vote", embeddings, propagation = "auto", support,
              ranked_round = "auto", ranked_extra_round = "auto", ranked_empty = "auto", ranked_penalty = "auto",
              ranked_objects = "auto", features = "thumbnail-hist", extra_checkpoint = "auto", extra_embeddings;
  int extra_grid = 0, extra_box_grid = RankedOptions::extra_candidate_defaults().box_grid;
  PipelineOptions pipeline;
  cli::SegmentFlags segment;
  bool no_sam = false, overwrite = false, resume = false, no_report = false;
  bool min_object_area_given = false;  // the prompt step's floor then stays as given
  std::string options_text;  // every option's value as parsed (CLI11's config format), for the resume key
};

// The run folder's contents as a user reads them after the run: only what is there (no overlay/ with
// --no-overlays, no embeddings/ when --embeddings put them elsewhere), in the order of the steps.
std::string describe_run_folder(const fs::path& out, bool steps_3_4) {
  const std::string overlay = steps_3_4 ? "(orange: final mask, cyan: coarse outline, green: ground truth, yellow: "
                                          "boxes, green/red dots: positive/negative points, magenta: a mask "
                                          "declined by a \"no object\" answer)"
                                        : "(orange: mask, green: ground truth)";
  const std::pair<std::string, std::string> entries[] = {
      {"masks/", steps_3_4 ? " (final)" : " (= coarse/)"}, {"coarse/", ""}, {"soft/", ""}, {"prompts/", ""},
      {"declined/", " (masks a \"no object\" answer declined)"}, {"embeddings/", ""}, {"embeddings_extra/", ""},
      {"overlay/", " " + overlay}, {"report.html", ""}, {"run.json", ""}, {"support.json", ""},
      {"self_config.json", ""}, {"ranker.json", ""}, {"eval.json", "/.csv"}, {"eval_coarse.json", "/.csv"}};
  std::string text;
  for (const auto& [name, what] : entries)
    if (fs::exists(out / name)) text += (text.empty() ? "" : ", ") + name + what;
  return text;
}

// What must be equal for a killed run's work to be reused: the options (but --resume and --threads, which do not
// change results), the checkpoint chosen by the environment, the program itself and the data set's files.
std::string resume_key(const RunArgs& a, const Dataset* data) {
  std::string key, line;
  std::istringstream in(a.options_text);
  while (std::getline(in, line))
    if (line.rfind("resume=", 0) != 0 && line.rfind("threads=", 0) != 0) key += line + "\n";
  const char* ckpt = std::getenv("SAMMPA_CHECKPOINT");
  key += std::string("SAMMPA_CHECKPOINT=") + (ckpt ? ckpt : "") + "\n";
  std::error_code ec;
  key += "program " + std::to_string(fs::file_size("/proc/self/exe", ec)) + " " +
         std::to_string(fs::last_write_time("/proc/self/exe", ec).time_since_epoch().count()) + "\n";
  key += data ? dataset_fingerprint(*data) : "built-in phantom set\n";
  return key;
}

void run(RunArgs& a) {
  OutputPolicy policy{a.overwrite, {}};
  if (!a.data.empty()) policy.inputs.push_back(a.data);
  if (!a.embeddings.empty()) policy.inputs.push_back(a.embeddings);
  if (!a.extra_embeddings.empty()) policy.inputs.push_back(a.extra_embeddings);
  OutputDir out(a.out, policy);
  std::optional<Dataset> given;
  if (!a.data.empty()) given = scan_dataset(a.data);
  const std::string key = resume_key(a, given ? &*given : nullptr);
  const auto killed = out.abandoned();
  bool adopted = false;
  if (!killed.empty() && a.resume && read_work_key(killed.front()) == key) {
    out.adopt(killed.front());
    adopted = true;
    std::printf("resuming the interrupted run (%s): its finished queries and embeddings are kept\n",
                killed.front().c_str());
  }
  fs::path data = a.data;
  if (data.empty()) {  // the embedded default: a synthetic set with known masks
    data = out.path("phantom");
    write_phantom_dataset(data);
    std::printf("no --data given: running on a synthetic phantom set (%s)\n", (fs::path(a.out) / "phantom").c_str());
  }
  const Dataset ds = given ? *given : scan_dataset(data);
  PipelineOptions o = a.pipeline;
  o.resume_key = key;
  if (a.data.empty()) o.dataset_path = fs::path(a.out) / "phantom";  // where it will be once the run is done
  o.select.strategy = parse_select_strategy(a.strategy);
  o.select.features = parse_feature_kind(a.features);
  if (!a.support.empty()) {
    SupportList given_support = read_support_list_with_alternates(a.support);
    o.support = std::move(given_support.names);
    o.support_alternates = std::move(given_support.alternates);
    o.support_set_aside = std::move(given_support.set_aside);
  }
  o.select.threads = o.propagate.threads;
  cli::use_threads(o.propagate.threads);
  o.propagate.fusion = parse_fusion(a.fusion);
  o.propagation = parse_propagation(a.propagation);
  o.ranked.ranker.allow_empty = a.ranked_empty != "never";
  o.ranked.empty_from = a.ranked_empty == "queries"    ? EmptyFrom::queries
                        : a.ranked_empty == "supports" ? EmptyFrom::supports
                                                       : EmptyFrom::automatic;
  auto round = [](const std::string& v) {
    return v == "on" ? RankedRound::on : v == "off" ? RankedRound::off : RankedRound::automatic;
  };
  o.ranked.round = round(a.ranked_round);
  o.ranked.ranker.penalty_rule =
      a.ranked_penalty == "dice"    ? PenaltyRule::dice
      : a.ranked_penalty == "error" ? PenaltyRule::error
                                    : PenaltyRule::automatic;
  const bool fixed_penalty = a.ranked_penalty != "auto" && a.ranked_penalty != "dice" && a.ranked_penalty != "error";
  o.ranked.ranker.l2 = fixed_penalty ? std::stod(a.ranked_penalty) : 0.0;
  o.ranked.extra_round = round(a.ranked_extra_round);
  o.ranked.objects_ratio = a.ranked_objects == "auto" ? -1.0 : a.ranked_objects == "one" ? 0.0
                                                                                          : std::stod(a.ranked_objects);
  o.segment = cli::segment_options(a.segment);
  o.sam = !a.no_sam;
  o.prompt_floor_from_supports = !a.min_object_area_given;
  o.ranked.extra_checkpoint = resolve_extra_checkpoint(a.extra_checkpoint, o.segment.checkpoint);
  if (!o.ranked.extra_checkpoint.empty()) {
    if (a.extra_checkpoint == "auto")
      std::printf("LiteMedSAM (%s) joins the ranked and feature modes beside the run's checkpoint "
                  "(--ranked-extra-checkpoint none: without it)\n", o.ranked.extra_checkpoint.c_str());
    o.ranked.extra_candidates = o.ranked.candidates;  // sizes, aspects, peaks, boxes and filters shared
    o.ranked.extra_candidates.grid = a.extra_grid;
    o.ranked.extra_candidates.box_grid = a.extra_box_grid;
    if (!a.extra_embeddings.empty()) {
      o.ranked.extra_embeddings = a.extra_embeddings;
    } else if (!a.segment.no_embedding_cache) {
      o.ranked.extra_embeddings = out.staging() / "embeddings_extra";
      if (fs::exists(out.target() / kOutputMarker))
        o.ranked.extra_previous_embeddings = out.target() / "embeddings_extra";
      if (!killed.empty() && a.resume && !adopted)
        o.ranked.extra_previous_embeddings = killed.front() / "embeddings_extra";
    }
  }
  if (!a.embeddings.empty()) {
    o.segment.embeddings = a.embeddings;
  } else if (!a.segment.no_embedding_cache) {
    o.segment.embeddings = out.staging() / "embeddings";
    if (fs::exists(out.target() / kOutputMarker)) o.segment.previous_embeddings = out.target() / "embeddings";
    if (!killed.empty() && a.resume && !adopted) {
      o.segment.previous_embeddings = killed.front() / "embeddings";
      std::printf("resuming: the interrupted run (%s) had other options or data; only its SAM embeddings are "
                  "reused\n", killed.front().c_str());
    } else if (!killed.empty() && !a.resume) {
      std::printf("note: an earlier run into %s was interrupted; --resume continues it\n", a.out.c_str());
    }
  }
  PipelineResult r = run_pipeline(ds, o, out.staging());
  if (r.final_scores) {
    std::printf("coarse masks (step 2) vs ground truth, query images only:\n%s",
                report_table(*r.coarse_scores).c_str());
    std::printf("final masks vs ground truth, query images only:\n%s", report_table(*r.final_scores).c_str());
  } else {
    std::printf("not scored: some query images have no ground-truth mask\n");
  }
  if (!a.no_report) write_report(out.staging());
  out.commit();
  if (!a.no_report) std::printf("report: %s (open it in a browser)\n", (fs::path(a.out) / "report.html").c_str());
  std::printf("results in %s: %s\n", a.out.c_str(), describe_run_folder(a.out, o.sam && !r.steps_3_4_skipped).c_str());
}

sammpa::cli::Command cmd(1, [](CLI::App& app) {
  static RunArgs a;
  auto* sub = app.add_subcommand("run", "The whole job: select supports, propagate their masks, prompt SAM and "
                                        "refine, score and draw overlays (synthetic data if --data is not given)");
  sub->add_option("-d,--data", a.data,
                  "dataset folder: images/NAME.ext and masks/NAME.ext, or images and their NAME_mask.ext "
                  "files in the folder or its subfolders (support masks required)");
  sub->add_option("-o,--out", a.out, "output folder")->required();
  sub->add_option("-k,--k", a.pipeline.select.k, "number of support images")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  sub->add_option("--strategy", a.strategy, "support selection: kcentroid|random")
      ->capture_default_str()->check(CLI::IsMember({"kcentroid", "random"}));
  sub->add_option("--features", a.features,
                  "image features for kcentroid: thumbnail, thumbnail-hist (layout and intensities) or sam (SAM's "
                  "embedding, pooled over the image; every image is encoded first, into the embedding cache)")
      ->capture_default_str()->check(CLI::IsMember(feature_kind_names()));
  cli::add_support_option(sub, a.support, "already annotated (skips step 1)");
  sub->add_flag("--keep-empty-supports", a.pipeline.keep_empty_supports,
                "when none of the supports' masks shows an object, keep them (every answer is then empty) instead of "
                "taking the first of the selection's alternates (support.json) whose mask shows one");
  sub->add_option("--seed", a.pipeline.select.seed, "random seed (k-means++ seeding, random strategy)")
      ->capture_default_str();
  sub->add_option("--propagation", a.propagation,
                  "finding the object: registration (warp the support masks), feature (a classifier over SAM's "
                  "embedding learned from the supports, then prompts), fused (the mean of those two soft maps), "
                  "ranked (SAM's candidates over the whole image, chosen by a ranker fitted on the supports' "
                  "candidates; may answer 'no object'), or auto (the best of the four by leave-one-out on the "
                  "supports; with one support its mask decides: one object, ranked; several, feature where a second "
                  "checkpoint joins the soft map, else registration)")
      ->capture_default_str()->check(CLI::IsMember({"registration", "feature", "fused", "ranked", "auto"}));
  sub->add_option("--fusion", a.fusion,
                  "vote|best|majority|local (local: vote weights that also vary over the image with how well "
                  "each warped support matches the query there)")->capture_default_str();
  auto& rc = a.pipeline.ranked.candidates;
  sub->add_option("--ranked-grid", rc.grid, "ranked mode: G x G point prompts over the image")
      ->capture_default_str()->check(CLI::Range(0, 64));
  sub->add_option("--ranked-grid-min-soft", rc.grid_min_soft,
                  "ranked mode: skip grid points whose grid cell's soft map stays below this (0: prompt them all)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sub->add_option("--ranked-box-grid", rc.box_grid,
                  "ranked mode: box prompts centred on a G x G grid, of each size in --ranked-box-sizes and aspect "
                  "in --ranked-box-aspects (for box-trained checkpoints such as LiteMedSAM; 0: none)")
      ->capture_default_str()->check(CLI::Range(0, 16));
  sub->add_option("--ranked-box-sizes", rc.box_sizes, "ranked mode: the grid boxes' sizes, fractions of the "
                                                      "image's longer side")
      ->capture_default_str()->check(CLI::Range(0.01, 1.0));
  sub->add_option("--ranked-box-aspects", rc.box_aspects, "ranked mode: the grid boxes' width / height ratios")
      ->capture_default_str()->check(CLI::Range(0.1, 10.0));
  sub->add_option("--ranked-peaks", rc.soft_peaks, "ranked mode: point prompts at the soft map's peaks")
      ->capture_default_str()->check(CLI::Range(0, 64));
  sub->add_option("--ranked-boxes", rc.soft_boxes, "ranked mode: box prompts around the soft map's components")
      ->capture_default_str()->check(CLI::Range(0, 64));
  sub->add_option("--ranked-embedding", a.pipeline.ranked.embedding_components,
                  "ranked mode: how many principal coordinates of each candidate's mean SAM embedding (inside, and "
                  "inside minus around) the ranker sees (0: none)")
      ->capture_default_str()->check(CLI::Range(0, 64));
  sub->add_option("--ranked-extra-checkpoint", a.extra_checkpoint,
                  "ranked mode: a second checkpoint whose embedding joins the soft maps and whose own candidates "
                  "join the first one's (one ranker chooses among both, each candidate described in both "
                  "embeddings). auto: LiteMedSAM where scripts/fetch_lite_medsam.sh cached it (~/.cache/sammpa or "
                  "$SAMMPA_CACHE), unless it is the run's checkpoint; none: the run's checkpoint alone; or a file")
      ->capture_default_str();
  sub->add_option("--ranked-extra-embeddings", a.extra_embeddings,
                  "ranked mode: the extra checkpoint's embedding cache folder (default: OUT/embeddings_extra)");
  sub->add_option("--ranked-extra-grid", a.extra_grid, "ranked mode: the extra checkpoint's G x G point prompts")
      ->capture_default_str()->check(CLI::Range(0, 64));
  sub->add_option("--ranked-extra-box-grid", a.extra_box_grid,
                  "ranked mode: the extra checkpoint's box grid (sizes, aspects, peaks and soft-map boxes as for "
                  "the first checkpoint)")
      ->capture_default_str()->check(CLI::Range(0, 16));
  sub->add_flag("--feature-relative,!--no-feature-relative", a.pipeline.feature.image_relative,
                "feature and ranked modes: the classifier that makes the soft maps also sees each cell's embedding "
                "minus its image's mean (default: off)");
  sub->add_flag("--feature-position,!--no-feature-position", a.pipeline.feature.position,
                "feature and ranked modes: the classifier also sees each cell's place in the image (default: off)");
  sub->add_flag("--ranked-extra-soft-map,!--no-ranked-extra-soft-map", a.pipeline.ranked.extra_soft_map,
                "ranked mode: the feature classifier that makes the soft maps (peaks, soft boxes, soft features) "
                "sees the extra checkpoint's embedding beside the first one's (default: on)");
  sub->add_option("--ranked-empty", a.ranked_empty,
                  "ranked mode: answer \"no object\" for a query whose best candidate scores below a threshold. "
                  "supports: the threshold leave-one-out on the supports sets, when it pays (needs supports with "
                  "and without the object); queries: one from the queries' own scores, a two-Gaussian mixture "
                  "started from the supports' (decided once every query is scored); auto: queries, or supports "
                  "where fewer than 20 queries are scored, the mixture does not fit, or its threshold lies above most "
                  "supports with an object (report.html plots the scores and the threshold); never: every image "
                  "holds the object. A query answered \"no object\" keeps the mask it declined in OUT/declined/")
      ->capture_default_str()->check(CLI::IsMember({"auto", "supports", "queries", "never"}));
  sub->add_option("--ranked-penalty", a.ranked_penalty,
                  "ranked mode: how leave-one-out on the supports picks the ranker's ridge penalty: error (the "
                  "least held-out squared error of the predicted IoU over all the supports' candidates), dice (the "
                  "best mean held-out Dice of the chosen candidates, \"no object\" answers included), or auto: "
                  "error where no empty answer is possible (every support holds the object, or --ranked-empty "
                  "never), else dice; or a number: that penalty, fixed. With one support no image can be held "
                  "out: its candidates are, each in turn, and the strongest penalty within one standard error of "
                  "the least held-out error is used")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "error", "dice"}) | CLI::Range(1e-6, 1e6));
  sub->add_option("--ranked-round", a.ranked_round,
                  "ranked mode: one more SAM round on the chosen candidate: on|off|auto (auto: when it raises the "
                  "supports' leave-one-out Dice)")
      ->capture_default_str()->check(CLI::IsMember({"on", "off", "auto"}));
  sub->add_option("--ranked-extra-round", a.ranked_extra_round,
                  "ranked mode with an extra checkpoint: prompt it with the chosen mask's box (widened by 10% on "
                  "each side) for the final mask: on|off|auto (auto: unless the supports' leave-one-out Dice "
                  "clearly drops with it: beyond one standard error of the paired differences)")
      ->capture_default_str()->check(CLI::IsMember({"on", "off", "auto"}));
  sub->add_option("--ranked-objects", a.ranked_objects,
                  "ranked mode: how many objects an image may hold. one: the best candidate alone; a ratio R in "
                  "(0, 1]: also every candidate scoring at least R x the best that lies mostly outside those taken "
                  "(two lungs, lesions in several places); auto: the ratio among 0.9, 0.75, 0.6 with the best "
                  "leave-one-out Dice on the supports (ties: the lowest), used only on clear evidence (a gain "
                  "beyond one standard error, or most supports holding several objects and no loss), else one")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "one"}) | CLI::Range(1e-6, 1.0));
  sub->add_option("--top", a.pipeline.propagate.top, "deformably register only the M most similar supports (0 = all)")
      ->capture_default_str();
  cli::add_threads_option(sub, a.pipeline.propagate.threads);
  sub->add_flag("--resume", a.resume,
                "after a run into the same --out was killed: continue it (the same command): its finished "
                "registrations, final masks and SAM embeddings are kept, the results are the same as an "
                "uninterrupted run's. With other options or data, only its embeddings are reused");
  sub->add_flag("--no-report", a.no_report, "do not write report.html (settings, scores, plots, overlays)");
  sub->add_flag("--no-sam", a.no_sam, "stop after step 2: the coarse masks are the final masks");
  sub->add_option("--embeddings", a.embeddings, "SAM embedding cache folder (default: OUT/embeddings; reused by "
                                                "later runs)");
  sub->add_flag("--no-embedding-cache", a.segment.no_embedding_cache, "do not keep the SAM embeddings");
  cli::add_segment_flags(sub, a.segment);
  cli::add_overwrite_flag(sub, a.overwrite);
  sub->callback([sub] {
    a.options_text = sub->config_to_str(true, false);
    a.min_object_area_given = sub->get_option("--min-object-area")->count() > 0;
    run(a);
  });
});

}  // namespace
