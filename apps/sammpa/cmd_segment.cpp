// `sammpa segment`: steps 3-4 alone, on the coarse masks of an earlier `propagate` (or `run`) output: prompts
// from each coarse mask and soft map, SAM, refinement; scores and overlays as `run` writes them.
#include <cstdio>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common/error.h"
#include "common/output_dir.h"
#include "io/image_io.h"
#include "pipeline/pipeline.h"
#include "pipeline/ranked.h"
#include "segment_options.h"
#include "select/support_list.h"

namespace fs = std::filesystem;
using namespace sammpa;

namespace {

struct SegmentArgs {
  std::string data, coarse, support, out, embeddings, queries;
  cli::SegmentFlags segment;
  bool overwrite = false, min_object_area_given = false;
  int threads = 0;
};

std::vector<std::string> support_of(const fs::path& coarse_dir, const std::string& given) {
  if (!given.empty()) return read_support_list(given);
  for (const char* f : {"propagation.json", "support.json"}) {
    const fs::path p = coarse_dir / f;
    if (!fs::exists(p)) continue;
    std::ifstream in(p);
    const auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("support") || !j["support"].is_array())
      throw InputError(p, "not a sammpa output (no \"support\" list); give --support");
    std::vector<std::string> names;
    for (const auto& n : j["support"]) {
      if (!n.is_string()) throw InputError(p, "\"support\" must list image names");
      names.push_back(n.get<std::string>());
    }
    return names;
  }
  throw InputError(coarse_dir, "has no propagation.json or support.json; give --support");
}

void run_segment(const SegmentArgs& a) {
  cli::use_threads(a.threads);
  const Dataset scanned = scan_dataset(a.data);
  const fs::path prop = a.coarse;
  if (!fs::is_directory(prop / "coarse")) throw InputError(prop, "has no coarse/ folder (a `sammpa propagate` output)");
  const auto support = support_of(prop, a.support);
  const Dataset ds = usable_masks_or_warn(scanned, support);
  std::vector<std::string> queries;
  const std::set<std::string> support_set(support.begin(), support.end());
  std::set<std::string> wanted;
  if (!a.queries.empty())
    for (const auto& n : read_support_list(a.queries)) {  // same formats as a support list
      ds.at(n);  // InputError if the dataset has no such image
      wanted.insert(n);
    }
  for (const auto& s : ds.samples)
    if (!support_set.count(s.name) && (wanted.empty() || wanted.count(s.name)) &&
        fs::exists(prop / "coarse" / (s.name + ".png")))
      queries.push_back(s.name);
  if (queries.empty()) throw InputError(prop / "coarse", "no coarse mask of a query image of " + a.data);

  OutputPolicy policy{a.overwrite, {a.data, a.coarse}};
  if (!a.embeddings.empty()) policy.inputs.push_back(a.embeddings);
  OutputDir out(a.out, policy);
  SegmentOptions o = cli::segment_options(a.segment);
  if (!a.min_object_area_given) {  // as in `run`: the supports' smallest object lowers the default floor
    std::vector<cv::Mat> masks;
    for (const auto& n : support)
      if (const auto i = ds.index_of(n); i && ds.samples[*i].mask) masks.push_back(read_truth(ds.samples[*i]));
    o.prompt.min_object_area = lowered_size_floor(o.prompt.min_object_area, masks);
  }
  if (!a.embeddings.empty()) {
    o.embeddings = a.embeddings;
  } else if (!a.segment.no_embedding_cache) {
    o.embeddings = out.staging() / "embeddings";
    if (fs::exists(out.target() / kOutputMarker)) o.previous_embeddings = out.target() / "embeddings";
  }
  SegmentRun run = segment_dataset(
      ds, queries,
      [&](const std::string& name) {
        const cv::Size size = read_image_size(ds.at(name).image);
        CoarseInput in;
        in.coarse = read_mask(prop / "coarse" / (name + ".png"), size);
        const fs::path soft = prop / "soft" / (name + ".png");
        if (fs::exists(soft)) in.soft = to_grey(read_image(soft));
        if (!in.soft.empty() && in.soft.size() != size) throw InputError(soft, "size differs from the image");
        return in;
      },
      o, out.staging());
  nlohmann::json j = to_json(run, o);
  j["coarse"] = fs::absolute(prop).lexically_normal().string();
  j["support"] = support;
  write_json_atomic(out.path("segment.json"), j);
  bool has_truth = true;
  for (const auto& n : queries) has_truth = has_truth && ds.at(n).mask.has_value();
  if (has_truth) {
    std::vector<std::string> not_scored;  // supports, and images left out by --queries
    const std::set<std::string> scored(queries.begin(), queries.end());
    for (const auto& s : ds.samples)
      if (!scored.count(s.name)) not_scored.push_back(s.name);
    const bool groups = names_share_prefixes(queries);
    auto coarse = score_masks(ds, not_scored, prop / "coarse", groups, out.staging() / "eval_coarse", a.threads);
    auto final = score_masks(ds, not_scored, out.staging() / "masks", groups, out.staging() / "eval", a.threads);
    std::printf("coarse masks vs ground truth:\n%sfinal masks vs ground truth:\n%s", report_table(coarse).c_str(),
                report_table(final).c_str());
  }
  out.commit();
  std::printf("%zu final masks in %s (%.1f s; %zu embeddings reused)\n", queries.size(), a.out.c_str(), run.seconds,
              run.embeddings_reused);
}

sammpa::cli::Command cmd(30, [](CLI::App& app) {
  static SegmentArgs a;
  auto* sub = app.add_subcommand("segment", "Steps 3-4 on coarse masks: prompts, SAM and refinement -> final masks");
  sub->add_option("-d,--data", a.data,
                  "dataset folder (images/, masks/; or images and NAME_mask files, any folders)")->required();
  sub->add_option("-c,--coarse", a.coarse, "a `sammpa propagate` or `sammpa run` output (coarse/, soft/)")->required();
  cli::add_support_option(sub, a.support, "never segmented (default: the list in the --coarse folder)");
  sub->add_option("-o,--out", a.out, "output folder: masks/, prompts/, overlay/, segment.json, eval*.json")->required();
  sub->add_option("--embeddings", a.embeddings, "SAM embedding cache folder (default: OUT/embeddings)");
  sub->add_option("--queries", a.queries, "only these query images: FILE.txt (one name per line) or a,b,c");
  sub->add_flag("--no-embedding-cache", a.segment.no_embedding_cache, "do not keep the SAM embeddings");
  cli::add_segment_flags(sub, a.segment);
  cli::add_threads_option(sub, a.threads);
  cli::add_overwrite_flag(sub, a.overwrite);
  sub->callback([sub] {
    a.min_object_area_given = sub->get_option("--min-object-area")->count() > 0;
    run_segment(a);
  });
});

}  // namespace
