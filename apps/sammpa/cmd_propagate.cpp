// `sammpa propagate`: step 2 of SAM-MPA, support masks -> coarse masks of every query by registration.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common/error.h"
#include "common/output_dir.h"
#include "pipeline/pipeline.h"
#include "propagate/propagate.h"
#include "select/support_list.h"

namespace {

std::vector<std::string> read_name_file(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw sammpa::InputError(file, "cannot read the query list");
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty() && line[0] != '#') names.push_back(line);
  }
  if (names.empty()) throw sammpa::InputError(file, "query list is empty");
  return names;
}

sammpa::cli::Command cmd(20, [](CLI::App& app) {
  auto* sub = app.add_subcommand("propagate", "Warp the support masks onto every other image by registration "
                                              "(coarse masks and soft maps)");
  static std::string data, support, out, fusion = "vote", method = "demons", queries;
  static sammpa::PropagateOptions opt;
  static bool overwrite = false;
  sub->add_option("-d,--data", data,
                  "dataset folder (images/, masks/; or images and NAME_mask files, any folders)")->required();
  sammpa::cli::add_support_option(sub, support, "whose masks are propagated")->required();
  sub->add_option("-o,--out", out, "output folder")->required();
  sub->add_option("--fusion", fusion,
                  "vote|best|majority|local (local: vote weights that also vary over the image with how well "
                  "each warped support matches the query there)")
      ->capture_default_str();
  sub->add_option("--method", method, "registration: demons (affine + diffeomorphic demons)|bspline (affine + "
                                      "cubic B-spline)|bspline-demons (B-spline, then demons)|affine|identity")
      ->capture_default_str();
  sub->add_option("--top", opt.top, "deformably register only the M supports most similar after the affine "
                                    "stage (0 = all)")->capture_default_str()->check(CLI::NonNegativeNumber);
  sub->add_option("--work-size", opt.registration.size, "registration's working frame, pixels per side")
      ->capture_default_str()
      ->check(CLI::Range(16, 2048));
  sammpa::cli::add_threads_option(sub, opt.threads);
  sub->add_option("--queries", queries, "file with the query names to process (default: every non-support image)");
  sub->add_option("--local-radius", opt.local.radius, "local fusion: patch radius (working-grid pixels)")
      ->capture_default_str()->check(CLI::Range(0, 32));
  sub->add_option("--local-scale", opt.local.scale, "local fusion: weight scale, in units of the mean patch difference")
      ->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--temperature", opt.temperature, "vote weights exp((s - max s) / T), s = NCC")
      ->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--demons-iterations", opt.registration.demons.iterations, "per level, coarsest first")
      ->capture_default_str()->expected(1, 8);
  sub->add_option("--demons-sigma", opt.registration.demons.field_sigma, "field smoothing (working pixels)")
      ->capture_default_str();
  sub->add_option("--bspline-mesh", opt.registration.bspline.mesh, "B-spline control mesh cells per side, finest level")
      ->capture_default_str()->check(CLI::Range(1, 64));
  sub->add_option("--bspline-levels", opt.registration.bspline.levels, "B-spline pyramid levels")
      ->capture_default_str()->check(CLI::Range(1, 5));
  sub->add_option("--bspline-iterations", opt.registration.bspline.iterations,
                  "B-spline gradient-descent iterations per level")
      ->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--bspline-size", opt.registration.bspline.max_size, "B-spline finest level, pixels per side")
      ->capture_default_str()->check(CLI::Range(8, 2048));
  sub->add_option("--bspline-step", opt.registration.bspline.step, "B-spline first step (working pixels)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--bspline-metric", opt.registration.bspline.metric, "correlation|mattes")->capture_default_str();
  sub->add_option("--affine-size", opt.registration.affine.max_size, "finest affine level, pixels per side")
      ->capture_default_str();
  sub->add_flag("--all-fusions", opt.all_fusions, "also write coarse_<rule>/ for every fusion rule");
  sub->add_flag("--oracle", opt.oracle, "also write coarse_oracle/: the warped mask closest to the query's "
                                        "own mask (a ceiling; needs query masks)");
  sammpa::cli::add_overwrite_flag(sub, overwrite);
  sub->add_flag("--score", opt.score, "record each rule's Dice against the query's own mask in propagation.json");
  sub->callback([] {
    opt.fusion = sammpa::parse_fusion(fusion);
    opt.registration.method = sammpa::parse_method(method);
    if (!queries.empty()) opt.queries = read_name_file(queries);
    auto names = sammpa::read_support_list(support);
    auto dataset = sammpa::usable_masks_or_warn(sammpa::scan_dataset(data), names);
    sammpa::OutputDir dir(out, {overwrite, {data}});
    auto run = sammpa::propagate_dataset(dataset, names, opt, dir.staging());
    auto j = sammpa::to_json(run, opt);
    sammpa::write_json_atomic(dir.path("propagation.json"), j);
    dir.commit();
    const auto& s = j["summary"];
    std::printf("propagated %zu supports to %zu queries in %.1f s (%.3f s per query) -> %s\n", names.size(),
                run.queries.size(), run.seconds, s["seconds_per_query"].get<double>(), out.c_str());
    if (s.contains("mean_dice"))
      for (const auto& [rule, d] : s["mean_dice"].items())
        std::printf("  mean Dice %-9s %.4f\n", rule.c_str(), d.get<double>());
  });
});

}  // namespace
