// `sammpa report`: (re)builds RUN/report.html from a `sammpa run` folder (run also writes it).
#include <cstdio>

#include "commands.h"
#include "common/error.h"
#include "common/output_dir.h"
#include "report/report.h"

namespace {
sammpa::cli::Command cmd(45, [](CLI::App& app) {
  auto* sub = app.add_subcommand("report", "Write RUN/report.html (open it from disk in any browser): settings, "
                                           "supports, scores, plots and every query's overlay, worst first");
  static std::string run;
  sub->add_option("run", run, "a folder written by `sammpa run`")->required();
  sub->callback([] {
    const std::filesystem::path dir = run;
    if (!std::filesystem::exists(dir / sammpa::kOutputMarker))
      throw sammpa::InputError(dir, "not a finished sammpa output folder (no " + std::string(sammpa::kOutputMarker) +
                                        ")");
    const auto s = sammpa::write_report(dir);
    std::printf("wrote %s (%zu query images, %zu thumbnails in %s)\n", (dir / "report.html").c_str(), s.queries,
                s.thumbnails, (dir / "report").c_str());
  });
});
}  // namespace
