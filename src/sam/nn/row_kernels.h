#pragma once
// Row kernels shared by the image encoders (internal), compiled for AVX-512, AVX2 and plain x86-64 and
// picked at run time, because the project builds for the baseline ISA.
#include <cstdint>
#include <cstring>

// Every row kernel of the models (here, in the encoders and in the decoder) is compiled once per ISA of this
// list; glibc's ifunc resolver picks the best at load time. The project itself builds for baseline x86-64.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SAMMPA_ROW_KERNEL_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define SAMMPA_ROW_KERNEL_CLONES
#endif

namespace sammpa::sam {

// exp(x) for x <= 0 (a softmax after subtracting the row maximum), relative error about 2e-7: x = k ln2 + r with
// |r| <= ln2 / 2, a degree-6 polynomial for e^r and 2^k built in the exponent bits. Branch-free arithmetic (no
// floor, no table) so that the loops around it vectorise in every target clone. The one approximation of both
// encoders: the ViT's AVX-512 softmax (vit_kernels.cpp) computes the same steps with these constants.
namespace exp_constants {
constexpr float kMin = -87.f;               // keeps 2^k a normal float
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kShifter = 12582912.f;      // 1.5 * 2^23: adding it rounds to an integer held in the low bits
constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;  // ln2 split in two for an exact product
constexpr float kP[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                         4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
constexpr int32_t kBiasBits = 0x4B400000 - 127;  // t's bits minus this, shifted to the exponent field: 2^k
}  // namespace exp_constants

__attribute__((always_inline)) inline float exp_nonpositive(float x) {
  namespace c = exp_constants;
  x = x < c::kMin ? c::kMin : x;
  const float t = x * c::kLog2e + c::kShifter;
  const float k = t - c::kShifter;
  const float r = (x - k * c::kLn2Hi) - k * c::kLn2Lo;
  float p = c::kP[0];
  for (int i = 1; i < 6; ++i) p = p * r + c::kP[i];
  const float e = p * r * r + r + 1.f;
  int32_t bits;
  std::memcpy(&bits, &t, 4);
  bits = (bits - c::kBiasBits) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return e * scale;
}

// x = gelu(x) = x / 2 * (1 + erf(x / sqrt(2))) over n values, in place (torch.nn.GELU(), the exact erf form).
// erf is a rational function fitted by scripts/fit_gelu_erf.py (largest error 3.6e-7 in float32), so that
// no exp is needed: GELU's largest error on [-10, 10] is 9.7e-7 (oneDNN's gelu_erf: 3.5e-7), at about half
// oneDNN's cost (0.34 against 0.61 ns per value on one Intel core, AVX-512). MobileSAM's encoder runs about
// 120 million of them per image.
void gelu_row(float* x, int64_t n);

// y = (x - mean(x)) / sqrt(var(x) + eps) * gamma + beta over one row of n values (torch.nn.LayerNorm).
// x and y may alias.
void layer_norm_row(const float* x, float* y, int64_t n, const float* gamma, const float* beta, float eps);

// x rounded to bf16 (to nearest, ties to even; the upper 16 bits of each float), as the bf16 products' inputs.
void to_bf16_row(const float* x, uint16_t* out, int64_t n);

}  // namespace sammpa::sam
