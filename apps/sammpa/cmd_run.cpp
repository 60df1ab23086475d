// `sammpa run`: the whole job on a dataset folder: select the support set, propagate its masks to every other
// image, score the coarse masks where ground truth exists, and draw overlays a person can check. With no
// --data, runs on a synthetic phantom set (written into the output folder) so it works on a fresh machine.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common/error.h"
#include "common/output_dir.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "eval/evaluate.h"
#include "io/dataset.h"
#include "io/image_io.h"
#include "io/overlay.h"
#include "io/phantom.h"
#include "propagate/propagate.h"
#include "select/select.h"

namespace fs = std::filesystem;
using namespace sammpa;

namespace {

struct RunArgs {
  std::string data, out, strategy = "kcentroid", fusion = "vote";
  SelectOptions select;
  PropagateOptions propagate;
  bool no_overlays = false, overwrite = false;
};

void require_support_masks(const Dataset& ds, const std::vector<std::string>& support) {
  std::string missing;
  for (const auto& n : support)
    if (!ds.at(n).mask) missing += (missing.empty() ? "" : ", ") + n;
  if (!missing.empty())
    throw InputError(ds.root / "masks",
                     "annotate the selected support images first (masks/NAME.png), missing: " + missing);
}

void run(RunArgs& a) {
  OutputPolicy policy{a.overwrite, {}};
  if (!a.data.empty()) policy.inputs.push_back(a.data);
  OutputDir out(a.out, policy);
  fs::path data = a.data;
  if (data.empty()) {  // the embedded default: a synthetic set with known masks
    data = out.path("phantom");
    write_phantom_dataset(data);
    std::printf("no --data given: running on a synthetic phantom set (%s)\n", (fs::path(a.out) / "phantom").c_str());
  }
  Dataset ds = scan_dataset(data);

  a.select.strategy = parse_select_strategy(a.strategy);
  Selection sel = select_examples(ds, a.select);
  write_selection(out.path("support.json"), selection_json(ds, a.select, sel));
  std::printf("step 1 select: %zu support image(s) to annotate:", sel.support.size());
  for (const auto& n : sel.support) std::printf(" %s", n.c_str());
  std::printf("\n");
  require_support_masks(ds, sel.support);

  a.propagate.fusion = parse_fusion(a.fusion);
  PropagationRun prop = propagate_dataset(ds, sel.support, a.propagate, out.staging());
  write_json_atomic(out.path("propagation.json"), to_json(prop, a.propagate));
  std::printf("step 2 propagate: %zu coarse masks in %.1f s\n", prop.queries.size(), prop.seconds);

  bool has_truth = true;
  for (const auto& q : prop.queries) has_truth = has_truth && ds.at(q.name).mask.has_value();
  if (has_truth) {
    EvalOptions eo;
    eo.pred_dir = out.path("coarse");
    eo.support = sel.support;
    eo.group_by_prefix = true;
    EvalReport report = evaluate(ds, eo);
    write_json_atomic(out.path("eval.json"), report_json(report));
    write_text_atomic(out.path("eval.csv"), report_csv(report));
    std::printf("coarse masks vs ground truth (query images only):\n%s", report_table(report).c_str());
  } else {
    std::printf("not scored: some query images have no ground-truth mask\n");
  }

  if (!a.no_overlays) {
    Progress progress("overlays", prop.queries.size());
    parallel_for(prop.queries.size(), 0, [&](size_t i) {
      const Sample& s = ds.at(prop.queries[i].name);
      cv::Mat img = read_image(s.image);
      cv::Mat pred = read_mask(out.path("coarse/" + s.name + ".png"), img.size());
      cv::Mat truth = s.mask ? read_mask(*s.mask, img.size()) : cv::Mat();
      write_png(out.path("overlay/" + s.name + ".png"), draw_overlay(img, pred, truth));
      progress.tick();
    });
    progress.finish();
  }
  out.commit();
  std::printf("results in %s: support.json, coarse/ (masks), soft/ (probability maps), overlay/ (orange: "
              "prediction, green: ground truth), propagation.json%s\n",
              a.out.c_str(), has_truth ? ", eval.json, eval.csv" : "");
}

sammpa::cli::Command cmd(1, [](CLI::App& app) {
  static RunArgs a;
  auto* sub = app.add_subcommand("run", "The whole job: select supports, propagate their masks, score and draw overlays "
                                        "(synthetic data if --data is not given)");
  sub->add_option("--data", a.data, "dataset folder: images/NAME.ext and masks/NAME.ext (support masks required)");
  sub->add_option("-o,--out", a.out, "output folder")->required();
  sub->add_option("-k,--k", a.select.k, "number of support images")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--strategy", a.strategy, "support selection: kcentroid|random")->capture_default_str();
  sub->add_option("--seed", a.select.seed, "random seed (k-means++ seeding, random strategy)")->capture_default_str();
  sub->add_option("--fusion", a.fusion, "vote|best|majority")->capture_default_str();
  sub->add_option("--top", a.propagate.top, "deformably register only the M most similar supports (0 = all)")
      ->capture_default_str();
  sub->add_option("--threads", a.propagate.threads, "threads (0 = all cores)")->capture_default_str();
  sub->add_flag("--no-overlays", a.no_overlays, "skip the overlay pictures");
  sammpa::cli::add_overwrite_flag(sub, a.overwrite);
  sub->callback([] {
    a.select.threads = a.propagate.threads;
    run(a);
  });
});

}  // namespace
