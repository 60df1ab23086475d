#pragma once
// Internal to the nn ops: the one oneDNN CPU engine, a stream per calling thread, a cache of primitives keyed
// by a string that describes the operation's shapes and parameters, and a cache of weights reordered into the
// layout a primitive prefers.
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

// Wraps tensor memory (no copy).
dnnl::memory wrap(const dnnl::memory::desc& md, const float* data);

// Plain row-major descriptor of a shape.
dnnl::memory::desc plain_desc(const Shape& shape);
// Descriptor with explicit strides.
dnnl::memory::desc strided_desc(const dnnl::memory::dims& dims, const dnnl::memory::dims& strides);

// "2x3x4" for cache keys.
std::string dims_key(const Shape& shape);

// Primitive attributes for an output scale `alpha` (if not 1) followed by the activation as a post-op.
dnnl::primitive_attr activation_attr(Act act, float alpha = 1.f);

}  // namespace sammpa::sam::nn::detail
