// The machine's fp32 FMA peak: every thread runs independent chains of fused multiply-adds on full vector
// registers (AVX-512 where the CPU has it, else AVX2 + FMA), enough chains to hide the FMA latency on two FMA
// units. The encoders' GFLOP/s are reported against this figure (docs/PERFORMANCE.md).
//   bench_peak [--threads N] [--seconds S]
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include <CLI/CLI.hpp>

namespace {

constexpr int kChains = 12;

// kChains accumulators a = a * b + c; returns their sum so that nothing is optimised away. FLOP: iters * kChains
// * 16 lanes * 2.
__attribute__((target("avx512f"))) float chains_avx512(long iters) {
  __m512 a[kChains];
  for (int i = 0; i < kChains; ++i) a[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 b = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-3f);  // converges: no overflow, no denormal
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < kChains; ++i) a[i] = _mm512_fmadd_ps(a[i], b, c);
  __m512 s = a[0];
  for (int i = 1; i < kChains; ++i) s = _mm512_add_ps(s, a[i]);
  float out[16];
  _mm512_storeu_ps(out, s);
  float sum = 0;
  for (float v : out) sum += v;
  return sum;
}

__attribute__((target("avx2,fma"))) float chains_avx2(long iters) {
  __m256 a[kChains];
  for (int i = 0; i < kChains; ++i) a[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 b = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-3f);
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < kChains; ++i) a[i] = _mm256_fmadd_ps(a[i], b, c);
  float out[8];
  __m256 s = a[0];
  for (int i = 1; i < kChains; ++i) s = _mm256_add_ps(s, a[i]);
  _mm256_storeu_ps(out, s);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fp32 FMA peak of this machine (GFLOP/s), all threads together"};
  int threads = 2;
  double seconds = 0.5;
  int reps = 7;
  app.add_option("--threads", threads, "threads")->capture_default_str();
  app.add_option("--seconds", seconds, "length of one measurement")->capture_default_str();
  app.add_option("--reps", reps, "measurements (the median and the best are printed)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    std::fprintf(stderr, "bench_peak: needs AVX-512 or AVX2 + FMA\n");
    return 1;
  }
  const int lanes = avx512 ? 16 : 8;
  auto run = [&](long iters) {
    float sink = 0;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += avx512 ? chains_avx512(iters) : chains_avx2(iters);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (sink == 12345.f) std::printf(" ");  // keeps the result alive
    return double(iters) * kChains * lanes * 2 * threads / s / 1e9;
  };
  long iters = 1 << 20;  // calibrate to about `seconds`
  while (true) {
    const auto t0 = std::chrono::steady_clock::now();
    run(iters);
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > seconds / 4) break;
    iters *= 2;
  }
  iters = static_cast<long>(iters * 4);
  std::vector<double> g;
  for (int r = 0; r < reps; ++r) g.push_back(run(iters));
  std::sort(g.begin(), g.end());
  std::printf("fp32 FMA peak, %s, %d thread(s): best %.1f GFLOP/s, median %.1f GFLOP/s (%d runs of %.2g s)\n",
              avx512 ? "AVX-512" : "AVX2", threads, g.back(), g[g.size() / 2], reps, seconds);
  return 0;
}
