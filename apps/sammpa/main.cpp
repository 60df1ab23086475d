// sammpa: few-shot segmentation of a folder of medical images (SAM-MPA).
#include <algorithm>
#include <cstdio>
#include <exception>

#include "commands.h"
#include "common/error.h"
#include "common/progress.h"

int main(int argc, char** argv) {
  CLI::App app{
      "sammpa: segment a whole folder of medical images of one kind from a handful of annotated examples\n"
      "(SAM-MPA: example selection, mask propagation by registration, prompt generation, SAM + refinement)."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sammpa 0.1.0");
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "no progress bars");
  auto& reg = sammpa::cli::registry();
  std::sort(reg.begin(), reg.end(), [](auto* a, auto* b) { return a->order < b->order; });
  for (const auto* c : reg) c->add(app);
  app.parse_complete_callback([&] { sammpa::Progress::set_globally_enabled(!quiet); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const sammpa::InputError& e) {
    std::fprintf(stderr, "sammpa: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sammpa: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
