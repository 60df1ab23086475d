// Times sammpa's SAM prompt encoder + mask decoder (SamPromptDecoder::predict on a real checkpoint, noise image
// embedding) and, in the same run, the official PyTorch modules on the same prompt cases and thread count;
// prints medians (wall and, for sammpa, process CPU time, which is steadier on a busy machine) and the ratio.
//   bench_decoder [--checkpoint FILE (default $SAMMPA_MOBILE_SAM)] [--reps N] [--threads N] [--no-torch]
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "flops.h"
#include "common/allocator.h"
#include "sam/checkpoint/checkpoint.h"
#include "sam/decoder/mask_decoder.h"

using namespace sammpa::sam;

namespace {

Tensor noise(Shape shape, float a, uint64_t seed) {
  Tensor t(std::move(shape));
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    t.data()[i] = a * (static_cast<float>(s >> 40) / 8388608.f - 1.f);
  }
  return t;
}

double median_ms(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : 1e3 * (v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
}

double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  sammpa::keep_freed_memory_in_heap();
  CLI::App app("SAM prompt encoder + mask decoder: sammpa vs PyTorch");
  const char* env = std::getenv("SAMMPA_MOBILE_SAM");
  std::string checkpoint = env ? env : "";
  int reps = 20, threads = 2;
  bool no_torch = false;
  app.add_option("--checkpoint", checkpoint, "SAM checkpoint (default $SAMMPA_MOBILE_SAM)");
  app.add_option("--reps", reps, "timed runs per case");
  app.add_option("--threads", threads, "threads for both implementations");
  app.add_flag("--no-torch", no_torch, "skip the PyTorch reference");
  CLI11_PARSE(app, argc, argv);
  if (checkpoint.empty()) {
    std::fprintf(stderr, "bench_decoder: no checkpoint (--checkpoint or SAMMPA_MOBILE_SAM)\n");
    return 2;
  }
  omp_set_num_threads(threads);
  const SamPromptDecoder model(Checkpoint::open(checkpoint));
  const Tensor embeddings = noise({1, 256, 64, 64}, 0.5f, 1);
  Prompts points;
  points.points = {{500.f, 400.f}, {520.f, 380.f}};
  points.labels = {1, 0};
  Prompts box;
  box.box = std::array<float, 4>{300.f, 280.f, 700.f, 650.f};
  Prompts box_points = points;
  box_points.box = box.box;
  Prompts mask_points = points;
  mask_points.mask_input = noise({1, 1, 256, 256}, 2.f, 2);
  const std::vector<std::tuple<std::string, Prompts, bool>> cases = {{"points, multimask", points, true},
                                                                     {"box, single mask", box, false},
                                                                     {"box + points, single", box_points, false},
                                                                     {"mask + points, single", mask_points, false}};
  nlohmann::json torch_times;
  if (!no_torch) {
    const std::string cmd = "/usr/bin/python3 " SAMMPA_SOURCE_DIR "/bench/bench_decoder_torch.py '" + checkpoint +
                            "' " + std::to_string(threads) + " " + std::to_string(reps);
    if (FILE* p = popen(cmd.c_str(), "r")) {
      std::string text;
      char buf[4096];
      while (size_t n = fread(buf, 1, sizeof buf, p)) text.append(buf, n);
      if (pclose(p) == 0 && !text.empty()) torch_times = nlohmann::json::parse(text.substr(text.rfind('{')));
      else std::fprintf(stderr, "bench_decoder: the PyTorch reference failed (PYTHONPATH with segment_anything?)\n");
    }
  }
  // Each case twice: from the bare embedding, as the official decoder runs every prompt (the image side's
  // projections redone per call), and on a prepared image, as SamPredictor runs a prompt after set_image.
  std::printf("%d threads, %d runs per case, medians; \"prepared\": the image side done once (SamPredictor)\n",
              threads, reps);
  std::printf("%-24s %12s %12s %12s %12s %8s %8s\n", "case", "sammpa wall", "sammpa cpu", "prepared", "torch wall",
              "ratio", "prepared");
  const auto prepared = model.prepare(embeddings);
  for (const auto& [name, prompts, multimask] : cases) {
    const MaskOutput which = multimask ? MaskOutput::multimask : MaskOutput::single;
    model.predict(embeddings, prompts, which);  // warm-up: primitives are created on the first call
    model.predict(prepared, prompts, which);
    std::vector<double> wall, cpu, wall_prepared;
    for (int r = 0; r < reps; ++r) {
      const double c0 = cpu_seconds();
      auto t0 = std::chrono::steady_clock::now();
      model.predict(embeddings, prompts, which);
      wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      cpu.push_back(cpu_seconds() - c0);
      t0 = std::chrono::steady_clock::now();
      model.predict(prepared, prompts, which);
      wall_prepared.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const double ours = median_ms(wall), ours_prepared = median_ms(wall_prepared);
    if (torch_times.contains(name)) {
      const double theirs = median_ms(torch_times[name].get<std::vector<double>>());
      std::printf("%-24s %9.2f ms %9.2f ms %9.2f ms %9.2f ms %7.1fx %7.1fx\n", name.c_str(), ours, median_ms(cpu),
                  ours_prepared, theirs, theirs / ours, theirs / ours_prepared);
    } else {
      std::printf("%-24s %9.2f ms %9.2f ms %9.2f ms %12s %8s %8s\n", name.c_str(), ours, median_ms(cpu),
                  ours_prepared, "-", "-", "-");
    }
  }
  std::printf("official computation %.2f GFLOP per prompt (bench/count_flops.py; ours folds it into less)\n",
              sammpa::bench::kGflopDecoderPrompt);
  // Batches of one-point prompts on one image (as the ranked mode's grid), multimask output: time per prompt.
  std::printf("\nbatches of one-point prompts, multimask: median time per prompt\n");
  std::printf("%-24s %12s %12s %12s %8s\n", "batch", "sammpa wall", "sammpa cpu", "torch wall", "ratio");
  for (int b : {1, 4, 16, 64}) {
    std::vector<Prompts> batch;
    for (int i = 0; i < b; ++i) {
      Prompts p;
      p.points = {{static_cast<float>(64 + (i * 97) % 900), static_cast<float>(64 + (i * 61) % 900)}};
      p.labels = {1};
      batch.push_back(p);
    }
    const int runs = std::max(3, reps * 4 / b);
    model.predict_batch(embeddings, batch, MaskOutput::multimask);  // warm-up
    std::vector<double> wall, cpu;
    for (int r = 0; r < runs; ++r) {
      const double c0 = cpu_seconds();
      const auto t0 = std::chrono::steady_clock::now();
      model.predict_batch(embeddings, batch, MaskOutput::multimask);
      wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / b);
      cpu.push_back((cpu_seconds() - c0) / b);
    }
    const double ours = median_ms(wall);
    const std::string name = "batch " + std::to_string(b);
    if (torch_times.contains(name)) {
      const double theirs = median_ms(torch_times[name].get<std::vector<double>>()) / b;
      std::printf("%-24s %9.2f ms %9.2f ms %9.2f ms %7.1fx\n", name.c_str(), ours, median_ms(cpu), theirs,
                  theirs / ours);
    } else {
      std::printf("%-24s %9.2f ms %9.2f ms %12s %8s\n", name.c_str(), ours, median_ms(cpu), "-", "-");
    }
  }
  return 0;
}
