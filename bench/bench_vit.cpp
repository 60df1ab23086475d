// Times sammpa's SAM ViT image encoder (random weights of the real ViT-B/L/H configuration, one 1024x1024
// image) and, in the same run, the official PyTorch ImageEncoderViT with the same configuration and thread
// count, alternating one run of each so that both see the same machine load; prints both medians, the ratio
// and the peak memory of each.
//   bench_vit [--model vit_b|vit_l|vit_h] [--reps N] [--no-torch] [--torch-default-env]
#include <omp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "flops.h"
#include "common/allocator.h"
#include "sam/encoders/image_encoder_vit.h"

using sammpa::sam::ImageEncoderViT;
using sammpa::sam::Tensor;

namespace {

struct VitSize {
  int64_t dim, depth, heads;
  std::vector<int64_t> global_blocks;
};

const std::map<std::string, VitSize> kModels = {
    {"vit_b", {768, 12, 12, {2, 5, 8, 11}}},
    {"vit_l", {1024, 24, 16, {5, 11, 17, 23}}},
    {"vit_h", {1280, 32, 16, {7, 15, 23, 31}}},
};

// Cheap deterministic uniform noise in [-a, a] (the values do not affect the timing).
Tensor noise(sammpa::sam::Shape shape, float a, float offset, uint64_t seed) {
  Tensor t(std::move(shape));
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    t.data()[i] = offset + a * (static_cast<float>(s >> 40) / 8388608.f - 1.f);
  }
  return t;
}

// The weights of SAM's image encoder with the official key names, filled with noise.
std::map<std::string, Tensor> random_weights(const VitSize& m) {
  std::map<std::string, Tensor> w;
  uint64_t seed = 1;
  auto add = [&](const std::string& key, sammpa::sam::Shape shape, float a, float offset = 0.f) {
    w["image_encoder." + key] = noise(std::move(shape), a, offset, seed++);
  };
  const int64_t c = m.dim, hd = c / m.heads, g = 64;
  add("patch_embed.proj.weight", {c, 3, 16, 16}, 1.f / std::sqrt(768.f));
  add("patch_embed.proj.bias", {c}, 0.02f);
  add("pos_embed", {1, g, g, c}, 0.02f);
  for (int64_t i = 0; i < m.depth; ++i) {
    const std::string p = "blocks." + std::to_string(i) + ".";
    const bool global = std::count(m.global_blocks.begin(), m.global_blocks.end(), i) > 0;
    const int64_t span = global ? g : 14;
    add(p + "norm1.weight", {c}, 0.1f, 1.f);
    add(p + "norm1.bias", {c}, 0.02f);
    add(p + "attn.qkv.weight", {3 * c, c}, 1.f / std::sqrt(float(c)));
    add(p + "attn.qkv.bias", {3 * c}, 0.02f);
    add(p + "attn.rel_pos_h", {2 * span - 1, hd}, 0.1f);
    add(p + "attn.rel_pos_w", {2 * span - 1, hd}, 0.1f);
    add(p + "attn.proj.weight", {c, c}, 1.f / std::sqrt(float(c)));
    add(p + "attn.proj.bias", {c}, 0.02f);
    add(p + "norm2.weight", {c}, 0.1f, 1.f);
    add(p + "norm2.bias", {c}, 0.02f);
    add(p + "mlp.lin1.weight", {4 * c, c}, 1.f / std::sqrt(float(c)));
    add(p + "mlp.lin1.bias", {4 * c}, 0.02f);
    add(p + "mlp.lin2.weight", {c, 4 * c}, 1.f / std::sqrt(float(4 * c)));
    add(p + "mlp.lin2.bias", {c}, 0.02f);
  }
  add("neck.0.weight", {256, c, 1, 1}, 1.f / std::sqrt(float(c)));
  add("neck.1.weight", {256}, 0.1f, 1.f);
  add("neck.1.bias", {256}, 0.02f);
  add("neck.2.weight", {256, 256, 3, 3}, 1.f / std::sqrt(2304.f));
  add("neck.3.weight", {256}, 0.1f, 1.f);
  add("neck.3.bias", {256}, 0.02f);
  return w;
}

double cpu_seconds() {  // user + system time of this process (less sensitive than wall time to other load)
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double status_mb(const std::string& field) {  // VmRSS / VmHWM of this process
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  return 0;
}

std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  while (fgets(buf.data(), buf.size(), p)) out += buf.data();
  pclose(p);
  return out;
}

// A child process (`/bin/sh -c command`) driven line by line through pipes to its stdin and from its stdout.
class Child {
 public:
  explicit Child(const std::string& command) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
  }
  ~Child() {
    finish_input();
    if (from_) fclose(from_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  void send(const std::string& line) {
    fputs((line + "\n").c_str(), to_);
    fflush(to_);
  }
  void finish_input() {
    if (to_) fclose(to_);
    to_ = nullptr;
  }
  std::string receive() {  // the next line without its newline; "" at end of output
    std::array<char, 4096> buf;
    if (!fgets(buf.data(), buf.size(), from_)) return "";
    std::string line = buf.data();
    while (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
  }

 private:
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

std::string times_str(const std::vector<double>& t) {
  std::string s;
  for (double x : t) s += (s.empty() ? "" : " ") + std::to_string(x).substr(0, 5);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  sammpa::keep_freed_memory_in_heap();
  CLI::App app("Times the ViT image encoder beside the official PyTorch module");
  std::string model = "vit_b";
  int reps = 5;
  bool no_torch = false, torch_default_env = false;
  double peak_gflops = 0;
  app.add_option("--model", model, "vit_b, vit_l or vit_h")->check(CLI::IsMember({"vit_b", "vit_l", "vit_h"}));
  app.add_option("--reps", reps, "timed runs of each (after one warm-up each)")->check(CLI::PositiveNumber);
  app.add_flag("--no-torch", no_torch, "skip the PyTorch reference");
  app.add_option("--peak", peak_gflops, "the machine's fp32 peak in GFLOP/s (bench_peak), to print each side's share");
  app.add_flag("--torch-default-env", torch_default_env,
               "run PyTorch without the tuned allocator/BLAS environment variables");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  const int threads = omp_get_max_threads();

  auto weights = random_weights(kModels.at(model));
  const auto load_start = std::chrono::steady_clock::now();
  const auto enc = ImageEncoderViT::load(ImageEncoderViT::WeightSource{
      "random " + model, [&](const std::string& k) { return weights.count(k) > 0; },
      [&](const std::string& k) { return weights.at(k); }});
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  const Tensor image = noise({1, 3, 1024, 1024}, 2.f, 0.f, 99);
  const double peak_load = status_mb("VmHWM");
  // The encoder holds its own (packed) copy: drop the source weights, as a caller may close its checkpoint, and
  // restart the peak count so that it covers inference alone.
  weights.clear();
  const double rss_model = status_mb("VmRSS");
  std::ofstream("/proc/self/clear_refs") << "5";

  std::unique_ptr<Child> torch;
  if (!no_torch) {
    const std::string pythonpath =
        run_command("bash '" SAMMPA_SOURCE_DIR "/scripts/setup_reference.sh' 2>/dev/null | tail -n 1");
    std::string env = "PYTHONPATH='" + pythonpath.substr(0, pythonpath.find('\n')) + "' ";
    // PyTorch's best settings on this machine (FACTS.md): OpenBLAS' AVX-512 kernels, and glibc keeps freed
    // memory (no mmap for big blocks, no trimming) so that the 0.8 GB score matrices are not faulted in anew
    // each time (measured here: fastest of the variants tried, ~9 s vs ~15 s under the same load).
    if (!torch_default_env)
      env += "OPENBLAS_CORETYPE=SkylakeX MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184 "
             "MALLOC_TOP_PAD_=1073741824 ";
    torch = std::make_unique<Child>(env + "/usr/bin/python3 '" SAMMPA_SOURCE_DIR "/bench/bench_vit_torch.py' " +
                                    model + " " + std::to_string(threads));
    std::string line;
    while ((line = torch->receive()) != "ready")
      if (line.empty()) {
        std::printf("PyTorch reference failed to start\n");
        return 1;
      }
  }

  enc.forward(image);  // warm-up
  std::vector<double> ours, ours_cpu, theirs;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    const Tensor out = enc.forward(image);
    ours.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    ours_cpu.push_back(cpu_seconds() - c0);
    if (torch) {
      torch->send("run");
      theirs.push_back(std::stod(torch->receive()));
    }
  }
  const double peak = status_mb("VmHWM");
  std::printf("%s image encoder, 1024x1024, %d threads\n", model.c_str(), threads);
  std::printf("sammpa : median %.3f s  (runs %s; CPU time %.2f s; loading %.2f s)\n", median(ours),
              times_str(ours).c_str(), median(ours_cpu), load_s);
  std::printf("sammpa : peak RSS %.0f MB while inferring (model %.0f MB); %.0f MB while loading (source weights + "
              "packed copy)\n",
              peak, rss_model, peak_load);
  sammpa::bench::print_rate("sammpa ", sammpa::bench::gflop_vit(model), median(ours), peak_gflops);
  if (!torch) return 0;
  torch->finish_input();
  const auto j = nlohmann::json::parse(torch->receive());
  std::vector<double> ratios;
  for (size_t i = 0; i < ours.size(); ++i) ratios.push_back(theirs[i] / ours[i]);
  std::printf("PyTorch: median %.3f s  (runs %s)  peak RSS %.0f MB%s\n", median(theirs), times_str(theirs).c_str(),
              j["peak_rss_mb"].get<double>(), torch_default_env ? " (default environment)" : " (tuned environment)");
  sammpa::bench::print_rate("PyTorch", sammpa::bench::gflop_vit(model), median(theirs), peak_gflops);
  std::printf("speed-up over PyTorch: %.2fx (ratio of medians); %.2fx (median of run-by-run ratios)\n",
              median(theirs) / median(ours), median(ratios));
  return 0;
}
