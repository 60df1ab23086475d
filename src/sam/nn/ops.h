#pragma once
// The neural-network operations the SAM models need, on float32 CPU tensors, computed with oneDNN primitives
// (OpenMP over all cores) where oneDNN has them. Semantics follow PyTorch exactly (weight layouts as stored in
// PyTorch state_dicts), so model code reads like the official modules. Every function returns a new tensor
// unless its name ends in '_' (in place).
#include "sam/nn/tensor.h"

namespace sammpa::sam::nn {

enum class Act { none, relu, gelu };  // gelu: exact erf form, as torch.nn.GELU()

// y = act(x W^T + b): x [..., K], w [N, K] (torch.nn.Linear layout), b [N] or empty -> y [..., N].
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, Act act = Act::none);

// Batched matrix product: a [B, M, K] (or [M, K]), b [B, K, N] (or [B, N, K] when transpose_b) -> alpha * a b.
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_b = false, float alpha = 1.f);

// torch.nn.functional.conv2d on NCHW: w [Cout, Cin/groups, kh, kw], b [Cout] or empty, square stride/padding.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, int stride = 1, int padding = 0, int groups = 1,
              Act act = Act::none);

// torch.nn.ConvTranspose2d (no padding, no output padding): w [Cin, Cout, kh, kw], b [Cout] or empty; act is
// applied to the result (fused).
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b, int stride, Act act = Act::none);

// Multi-head scaled dot-product attention on projected inputs, as in SAM's Attention module after its q/k/v
// projections: q [B, Nq, C], k [B, Nk, C], v [B, Nk, C] (or without B), C = heads * d. Heads are the d-wide
// column groups; returns softmax(q_h k_h^T / sqrt(d)) v_h with the heads recombined: [B, Nq, C].
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, int heads);

// LayerNorm over the last dimension (torch.nn.LayerNorm(C)): x [..., C], gamma/beta [C].
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps = 1e-5f);
// SAM's LayerNorm2d: normalises NCHW over C at each pixel, then per-channel affine. eps is 1e-6 in SAM.
Tensor layer_norm_2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps = 1e-6f);
// torch.nn.BatchNorm2d in eval mode, folded to scale/shift: y = (x - mean) / sqrt(var + eps) * g + b.
Tensor batch_norm_2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                     const Tensor& var, float eps = 1e-5f);

void gelu_(Tensor& x);
void relu_(Tensor& x);
void softmax_(Tensor& x);                       // over the last dimension
void add_(Tensor& a, const Tensor& b);          // same numel; elementwise a += b
void add_bias_nchw_(Tensor& x, const Tensor& b);  // x [N, C, H, W] += b[C]
Tensor add(const Tensor& a, const Tensor& b);

// Layout changes (copies).
Tensor permute(const Tensor& x, const std::vector<int>& order);  // like torch.permute(...).contiguous()
Tensor nchw_to_nhwc(const Tensor& x);
Tensor nhwc_to_nchw(const Tensor& x);

// torch.nn.functional.interpolate(x, (h, w), mode="bilinear", align_corners=false) on NCHW.
Tensor resize_bilinear(const Tensor& x, int64_t out_h, int64_t out_w);

// Drops every cached primitive and reordered weight copy. Not to be called while another thread runs an op.
// (The ops cache both; a weight copy is keyed by the tensor's identity, its address and the owner of its memory,
// and is dropped once that memory is freed: weights must not be changed in place after they were used.)
void clear_caches();
// The weight copies cached for tensors that are still alive.
size_t cached_weight_copies();

}  // namespace sammpa::sam::nn
