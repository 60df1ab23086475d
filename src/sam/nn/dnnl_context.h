#pragma once
// Internal to the nn ops and the image encoders' oneDNN layers: the one oneDNN CPU engine, a stream per calling
// thread, a cache of primitives keyed by a string that describes the operation's shapes and parameters, a cache
// of weights reordered into the layout a primitive prefers, and the helpers they all build primitives with.
#include <oneapi/dnnl/dnnl.hpp>

#include <functional>
#include <string>
#include <unordered_map>

#include "sam/nn/ops.h"
#include "sam/nn/tensor.h"

namespace sammpa::sam::nn::detail {

dnnl::engine& engine();
dnnl::stream& stream();  // thread-local

// A primitive together with the memory descriptors its arguments must have.
struct CachedPrimitive {
  dnnl::primitive prim;
  dnnl::memory::desc src, weights, bias, dst;  // as chosen by the primitive descriptor (unused ones empty)
  dnnl::memory::desc user_weights;             // the weights' layout as given (PyTorch's)
};

// Returns the cached entry for `key`, calling `make` to build it the first time. Thread-safe; entries live as
// long as the process.
const CachedPrimitive& cached(const std::string& key, const std::function<CachedPrimitive()>& make);

// The weights `w` (layout `user`) reordered to `wanted`; cached by the weights' identity (address and owner) and
// the two layouts, so weights that live as long as the model are reordered once, and the copy goes with them.
dnnl::memory reordered_weights(const Tensor& w, const dnnl::memory::desc& user, const dnnl::memory::desc& wanted);

// Runs a primitive on the thread's stream and waits for it.
void execute(const dnnl::primitive& p, const std::unordered_map<int, dnnl::memory>& args);

// Wraps memory (no copy): tensors, activation buffers, scratchpads. Inline: the encoders wrap their buffers on
// every run of a layer.
inline dnnl::memory wrap(const dnnl::memory::desc& md, const void* data) {
  return dnnl::memory(md, engine(), const_cast<void*>(data));
}

// A new buffer holding `data` (layout `user`) reordered to the layout `wanted`, on the thread's stream. Not
// cached: for weights that a layer copies once when its model loads (the source may be released afterwards).
dnnl::memory packed_copy(const dnnl::memory::desc& user, const void* data, const dnnl::memory::desc& wanted);

// Whether the TinyViT encoders' linear layers run their products on bf16 inputs (fp32 output): only when asked
// (environment SAMMPA_BF16=1 when the model is loaded) and the CPU has AMX, where such products run 6-8x faster
// than fp32 (elsewhere bf16 is slower in this oneDNN). Off by default: with it the embedding differs from the
// official fp32 code's by about 0.4% (relative L2) instead of float round-off (docs/PERFORMANCE.md, "A machine
// with AMX").
bool bf16_products();

// Plain row-major descriptor of a shape.
dnnl::memory::desc plain_desc(const Shape& shape);
// Descriptor with explicit strides.
dnnl::memory::desc strided_desc(const dnnl::memory::dims& dims, const dnnl::memory::dims& strides);

// "2x3x4" for cache keys.
std::string dims_key(const Shape& shape);

// Primitive attributes for an output scale `alpha` (if not 1) followed by the activation as a post-op.
dnnl::primitive_attr activation_attr(Act act, float alpha = 1.f);

// Primitive attributes with the post-ops `accumulate` (add the destination's old content: a residual connection
// computed in place), then `gelu` (the exact erf form, as torch.nn.GELU()). With `user_scratchpad` the caller
// passes a scratchpad to every run, so that one primitive may run on several threads at once (each with its own).
dnnl::primitive_attr post_ops_attr(bool accumulate, bool gelu, bool user_scratchpad);

}  // namespace sammpa::sam::nn::detail
