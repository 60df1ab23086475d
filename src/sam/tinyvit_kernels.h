#pragma once
// The memory-bound steps of the TinyViT encoder that oneDNN has no fused primitive for, written as single
// passes over row-major token arrays ([height * width, channels], i.e. NHWC). OpenMP over all cores.
#include <cstdint>

namespace sammpa::sam::tinyvit {

// torch.nn.LayerNorm over the last dimension: y[r] = (x[r] - mean) / sqrt(var + eps) * gamma + beta.
void layer_norm(const float* x, float* y, int64_t rows, int64_t channels, const float* gamma, const float* beta,
                float eps);

// LayerNorm, then the transpose of the [hw, channels] result into [channels, hw] (NCHW output).
void layer_norm_to_planar(const float* x, float* y, int64_t hw, int64_t channels, const float* gamma,
                          const float* beta, float eps);

// Zero-pads the [height, width, channels] image up to multiples of `window`, cuts it into window x window
// windows (row-major order of windows, row-major tokens in each) and layer-normalises every token: out is
// [windows * window * window, channels]. A padded token normalises to beta, as LayerNorm of a zero vector does.
void window_partition_norm(const float* x, float* out, int64_t height, int64_t width, int64_t channels, int window,
                           const float* gamma, const float* beta, float eps);

// The inverse of window_partition (padding dropped), added onto x: x[y, x] += windows[token of (y, x)].
void window_reverse_add(const float* windows, float* x, int64_t height, int64_t width, int64_t channels,
                        int window);

// In place over scores [batch, heads, n, n]: scores[b, h] = softmax(scores[b, h] + bias[h]) along the last axis.
void softmax_with_bias(float* scores, const float* bias, int64_t batch, int64_t heads, int64_t n);

}  // namespace sammpa::sam::tinyvit
