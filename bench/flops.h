#pragma once
// The work of one forward pass of the official models, counted by bench/count_flops.py (a multiply-add is 2
// FLOP; matrix products and convolutions only), so that each benchmark can print GFLOP/s and the share of the
// machine's fp32 peak (bench_peak). The decoder's count is the official computation's: ours folds projections
// and does less, so its rate is "official-equivalent".
#include <cstdio>
#include <string>

namespace sammpa::bench {

constexpr double kGflopTinyVitMobileSam = 77.5;   // 1024 x 1024 input
constexpr double kGflopTinyVitLiteMedSam = 74.95;  // 256 x 256 input, 64 x 64 embedding
constexpr double kGflopDecoderPrompt = 3.63;      // one prompt, points or box (3.64 / 3.62)

inline double gflop_vit(const std::string& model) {
  return model == "vit_b" ? 972 : model == "vit_l" ? 2986 : model == "vit_h" ? 5961 : 0;
}

// "label: G GFLOP in s -> R GFLOP/s (P% of the peak)"; the share only when a peak (bench_peak) is given.
inline void print_rate(const char* label, double gflop, double seconds, double peak_gflops) {
  const double rate = gflop / seconds;
  std::printf("%s: %.1f GFLOP in %.3f s -> %.0f GFLOP/s", label, gflop, seconds, rate);
  if (peak_gflops > 0) std::printf(" (%.0f%% of the %.0f GFLOP/s peak)", 100 * rate / peak_gflops, peak_gflops);
  std::printf("\n");
}

}  // namespace sammpa::bench
