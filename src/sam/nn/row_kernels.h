#pragma once
// Row kernels shared by the image encoders (internal), compiled for AVX-512, AVX2 and plain x86-64 and
// picked at run time, because the project builds for the baseline ISA.
#include <cstdint>

namespace sammpa::sam {

// y = (x - mean(x)) / sqrt(var(x) + eps) * gamma + beta over one row of n values (torch.nn.LayerNorm).
// x and y may alias.
void layer_norm_row(const float* x, float* y, int64_t n, const float* gamma, const float* beta, float eps);

}  // namespace sammpa::sam
