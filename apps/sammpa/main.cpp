// sammpa: few-shot segmentation of a folder of medical images (SAM-MPA).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <malloc.h>
#include <unistd.h>

#include "common/allocator.h"
#include "commands.h"
#include "common/error.h"
#include "common/progress.h"

namespace {
// Settings that libraries read once, when they load, so the program restarts itself once with them (unless the
// user set them):
// - OpenMP threads that spin while waiting stall each other for milliseconds at every barrier when another
//   process shares the cores (measured: SAM's prompt rounds 7x slower under a second process on 2 cores):
//   the passive wait policy.
// - Debian's OpenBLAS (used through OpenCV's double-precision matrix products, e.g. the feature classifier's
//   fitting) does not recognise CPUs that a virtual machine names generically ("Intel Xeon Processor") and falls
//   back to its SSE3 kernels: name the core from the CPU's own feature flags (measured: dgemm 3.5x faster).
const char* openblas_core() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}

void set_library_environment(char** argv) {
  if (std::getenv("SAMMPA_NO_REEXEC")) return;
  bool changed = false;
  if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("GOMP_SPINCOUNT")) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    changed = true;
  }
  if (!std::getenv("OPENBLAS_CORETYPE") && openblas_core()) {
    setenv("OPENBLAS_CORETYPE", openblas_core(), 1);
    changed = true;
  }
  if (!changed) return;
  setenv("SAMMPA_NO_REEXEC", "1", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then carry on with the libraries' defaults
}

// CLI11's PositiveNumber reports "Value 0 not in range 2.2e-308 to <a 309-digit number>": give every option
// that uses it a readable check instead.
std::string check_positive(std::string& value) {
  double v = 0;
  try {
    size_t used = 0;
    v = std::stod(value, &used);
    if (used != value.size()) return "'" + value + "' is not a number";
  } catch (const std::exception&) {
    return "'" + value + "' is not a number";
  }
  return v > 0 ? std::string() : "must be positive, got " + value;
}

void tidy_validators(CLI::App& app) {
  for (CLI::Option* opt : app.get_options()) {
    try {
      for (int i = 0;; ++i) {  // CLI11 2.1 has no validator count: index until OptionNotFound
        CLI::Validator* v = opt->get_validator(i);
        if (v->get_description() == "POSITIVE") v->operation(check_positive);
      }
    } catch (const CLI::OptionNotFound&) {
    }
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) tidy_validators(*sub);
}

// One line: CLI11 messages and exception texts may hold line breaks.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  // Progress bars and errors go to stderr unbuffered; a line-buffered stdout keeps a log written to a file (both
  // streams redirected) in the order things happened.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  sammpa::keep_freed_memory_in_heap();
  set_library_environment(argv);
  CLI::App app{
      "sammpa: segment a whole folder of medical images of one kind from a handful of annotated examples\n"
      "(SAM-MPA: example selection, mask propagation (registration or SAM features, chosen by leave-one-out),\n"
      "prompt generation, SAM + refinement)."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sammpa 0.1.0");
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "no progress bars");
  auto& reg = sammpa::cli::registry();
  std::sort(reg.begin(), reg.end(), [](auto* a, auto* b) { return a->order < b->order; });
  for (const auto* c : reg) c->add(app);
  tidy_validators(app);
  app.parse_complete_callback([&] { sammpa::Progress::set_globally_enabled(!quiet); });
  // Exit status: 0 success (also --help and --version), 2 a user error (bad option or input file: one line on
  // stderr), 3 an internal error (a bug).
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "sammpa: error: %s (see --help)\n", one_line(e.what()).c_str());
    return 2;
  } catch (const sammpa::InputError& e) {
    std::fprintf(stderr, "sammpa: error: %s\n", one_line(e.what()).c_str());
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {  // e.g. an output folder that cannot be created
    std::fprintf(stderr, "sammpa: error: %s\n", one_line(e.what()).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sammpa: internal error: %s\n", one_line(e.what()).c_str());
    return 3;
  }
  // Developer aid (docs/RESULTS.md, the ranked mode's memory): the heap's held and in-use bytes at the end.
  if (std::getenv("SAMMPA_MALLOC_STATS")) malloc_stats();
  return 0;
}
