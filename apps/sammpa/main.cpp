// sammpa: few-shot segmentation of a folder of medical images (SAM-MPA).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <unistd.h>

#include "commands.h"
#include "common/error.h"
#include "common/progress.h"

namespace {
// OpenMP threads that spin while waiting stall each other for milliseconds at every barrier when another
// process shares the cores (measured: SAM's prompt rounds 7x slower under a second process on 2 cores). The
// runtime reads its wait policy once, when it loads, so the program restarts itself once with the passive
// policy unless the user chose one.
void prefer_passive_openmp_waits(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT") || std::getenv("SAMMPA_NO_REEXEC")) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  setenv("SAMMPA_NO_REEXEC", "1", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then carry on with the default policy
}
}  // namespace

int main(int argc, char** argv) {
  prefer_passive_openmp_waits(argv);
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
