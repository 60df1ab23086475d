// `sammpa select`: step 1, choose the K images to annotate (the support set).
#include <cstdio>

#include "commands.h"
#include "common/error.h"
#include "common/output_dir.h"
#include "io/dataset.h"
#include "select/select.h"

namespace {
sammpa::cli::Command cmd(10, [](CLI::App& app) {
  auto* sub = app.add_subcommand("select", "Choose the K most representative images to annotate (support set)");
  static std::string data, out, strategy = "kcentroid", features = "thumbnail-hist";
  static sammpa::SelectOptions opt;
  static bool overwrite = false;
  sub->add_option("-d,--data", data, "dataset folder (images/NAME.ext)")->required();
  sub->add_option("-k,--k", opt.k, "number of images to select")->capture_default_str();
  sub->add_option("--strategy", strategy, "kcentroid (k-means on image features) or random (baseline)")
      ->capture_default_str();
  sub->add_option("--features", features, "image features for kcentroid: thumbnail, thumbnail-hist")
      ->capture_default_str();
  sub->add_option("--seed", opt.seed, "random seed (k-means++ seeding / random sample)")->capture_default_str();
  sammpa::cli::add_threads_option(sub, opt.threads);
  sub->add_option("-o,--out", out, "write OUT.json (selection and cluster sizes) and OUT.txt (one name per line)");
  sammpa::cli::add_overwrite_flag(sub, overwrite);
  sub->callback([] {
    opt.strategy = sammpa::parse_select_strategy(strategy);
    opt.features = sammpa::parse_feature_kind(features);
    if (!out.empty() && std::filesystem::path(out).extension() != ".json")
      throw sammpa::InputError("--out", "must name a .json file (got '" + out + "')");
    if (!out.empty()) {
      std::filesystem::path txt = out;
      sammpa::check_output_file(out, overwrite);
      sammpa::check_output_file(txt.replace_extension(".txt"), overwrite);
    }
    auto dataset = sammpa::scan_dataset(data);
    auto selection = sammpa::select_examples(dataset, opt);
    if (!out.empty()) sammpa::write_selection(out, sammpa::selection_json(dataset, opt, selection));
    for (const auto& name : selection.support) std::printf("%s\n", name.c_str());
  });
});
}  // namespace
