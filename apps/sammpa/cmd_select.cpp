// `sammpa select`: step 1, choose the K images to annotate (the support set).
#include <cstdio>
#include <optional>

#include "commands.h"
#include "common/error.h"
#include "common/output_dir.h"
#include "io/dataset.h"
#include "pipeline/select_features.h"
#include "select/select.h"

namespace {
sammpa::cli::Command cmd(10, [](CLI::App& app) {
  auto* sub = app.add_subcommand("select", "Choose the K most representative images to annotate (support set)");
  static std::string data, out, strategy = "kcentroid", features = "thumbnail-hist", checkpoint, embeddings;
  static sammpa::SelectOptions opt;
  static bool overwrite = false;
  sub->add_option("-d,--data", data,
                  "dataset folder (images/NAME.ext, or images and NAME_mask files)")->required();
  sub->add_option("-k,--k", opt.k, "number of images to select")->capture_default_str();
  sub->add_option("--strategy", strategy, "kcentroid (k-means on image features) or random (baseline)")
      ->capture_default_str();
  sub->add_option("--features", features,
                  "image features for kcentroid: thumbnail, thumbnail-hist (layout and intensities) or sam (SAM's "
                  "embedding pooled over the image: encodes every image)")
      ->capture_default_str()->check(CLI::IsMember(sammpa::feature_kind_names()));
  sub->add_option("--checkpoint", checkpoint,
                  "--features sam: official SAM / MedSAM / MobileSAM checkpoint (default: $SAMMPA_CHECKPOINT or "
                  "the cached MobileSAM)");
  sub->add_option("--embeddings", embeddings,
                  "--features sam: SAM embedding cache folder, read and filled (`sammpa run --embeddings` reuses it)");
  sub->add_option("--seed", opt.seed, "random seed (k-means++ seeding / random sample)")->capture_default_str();
  sammpa::cli::add_threads_option(sub, opt.threads);
  sub->add_option("-o,--out", out,
                  "output folder: support.json (selection, cluster sizes, and per support the alternates to annotate "
                  "instead should it show no object) and support.txt (one name per line), the names a run folder "
                  "uses; --support of the other subcommands takes this folder");
  sammpa::cli::add_overwrite_flag(sub, overwrite);
  sub->callback([] {
    opt.strategy = sammpa::parse_select_strategy(strategy);
    opt.features = sammpa::parse_feature_kind(features);
    sammpa::cli::use_threads(opt.threads);
    std::optional<sammpa::OutputDir> dir;  // checked before the (possibly long) selection
    if (!out.empty()) dir.emplace(sammpa::cli::output_folder(out), sammpa::OutputPolicy{overwrite, {data}});
    auto dataset = sammpa::scan_dataset(data);
    sammpa::SegmentOptions model;
    model.checkpoint = checkpoint;
    model.embeddings = embeddings;
    auto selection = sammpa::select_with_features(dataset, opt, model);
    if (dir) {
      sammpa::write_selection(dir->path("support.json"), sammpa::selection_json(dataset, opt, selection));
      dir->commit();
    }
    for (const auto& name : selection.support) std::printf("%s\n", name.c_str());
  });
});
}  // namespace
