// `sammpa phantom`: writes the embedded synthetic dataset (used when no data is given).
#include "commands.h"
#include "common/output_dir.h"
#include "io/phantom.h"

namespace {
sammpa::cli::Command cmd(5, [](CLI::App& app) {
  auto* sub = app.add_subcommand("phantom", "Write a synthetic dataset with known masks (images/, masks/)");
  static std::string out;
  static sammpa::PhantomOptions opt;
  static bool overwrite = false;
  static std::string kind = "lobes";
  sub->add_option("-o,--out", out, "output dataset folder")->required();
  sub->add_option("-n,--count", opt.count, "number of images")->capture_default_str()->check(CLI::Range(1, 100000));
  sub->add_option("--size", opt.size, "image side in pixels")->capture_default_str()->check(CLI::Range(32, 4096));
  sub->add_option("--seed", opt.seed, "random seed")->capture_default_str();
  sub->add_option("--kind", kind, "lobes (two lobes at about the same place in every image) or lesion (one dark "
                                  "lesion anywhere, every fifth image without one)")
      ->capture_default_str()->check(CLI::IsMember({"lobes", "lesion"}));
  sub->add_option("--lesion-size", opt.lesion_size,
                  "lesion: its semi-major axis as a fraction of the side (0.12: about 3% of the image)")
      ->capture_default_str()->check(CLI::Range(0.005, 0.4));
  sub->add_option("--lesions", opt.max_lesions,
                  "lesion: each lesion image holds 1 to N lesions (at random), apart from each other")
      ->capture_default_str()->check(CLI::Range(1, 8));
  sammpa::cli::add_overwrite_flag(sub, overwrite);
  sub->callback([] {
    opt.kind = kind == "lesion" ? sammpa::PhantomKind::lesion : sammpa::PhantomKind::lobes;
    sammpa::OutputDir dir(out, {overwrite, {}});
    sammpa::write_phantom_dataset(dir.staging(), opt);
    dir.commit();
    std::printf("wrote %d images and masks to %s\n", opt.count, out.c_str());
  });
});
}  // namespace
