#include "sam/nn/dnnl_context.h"

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "sam/nn/ops.h"

namespace sammpa::sam::nn::detail {

using dnnl::memory;

// The allocator setting that keeps freed activations warm is the program's choice (common/allocator.h).
dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

namespace {

std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}

std::unordered_map<std::string, std::unique_ptr<CachedPrimitive>>& primitives() {
  static std::unordered_map<std::string, std::unique_ptr<CachedPrimitive>> m;
  return m;
}

// A cheap summary of a weight tensor's values: catches a different tensor reusing a freed address.
uint64_t fingerprint(const Tensor& w) {
  const int64_t n = w.numel();
  uint64_t h = static_cast<uint64_t>(n) * 0x9E3779B97F4A7C15ull;
  const int samples = 64;
  for (int i = 0; i < samples && n > 0; ++i) {
    uint32_t bits;
    std::memcpy(&bits, w.data() + (n - 1) * i / (samples - 1 > 0 ? samples - 1 : 1), 4);
    h = (h ^ bits) * 0x100000001B3ull;
  }
  return h;
}

struct ReorderedWeights {
  uint64_t print;
  memory::desc user, wanted;
  memory mem;
};

std::map<const float*, std::vector<ReorderedWeights>>& weight_cache() {
  static std::map<const float*, std::vector<ReorderedWeights>> m;
  return m;
}

}  // namespace

const CachedPrimitive& cached(const std::string& key, const std::function<CachedPrimitive()>& make) {
  {
    std::lock_guard<std::mutex> lock(cache_mutex());
    auto it = primitives().find(key);
    if (it != primitives().end()) return *it->second;
  }
  auto made = std::make_unique<CachedPrimitive>(make());  // built outside the lock: creation is slow
  std::lock_guard<std::mutex> lock(cache_mutex());
  auto [it, inserted] = primitives().emplace(key, std::move(made));
  return *it->second;
}

memory reordered_weights(const Tensor& w, const memory::desc& user, const memory::desc& wanted) {
  if (user == wanted) return wrap(user, w.data());
  const uint64_t print = fingerprint(w);
  std::lock_guard<std::mutex> lock(cache_mutex());
  auto& entries = weight_cache()[w.data()];
  for (auto& e : entries)
    if (e.print == print && e.user == user && e.wanted == wanted) return e.mem;
  memory src = wrap(user, w.data());
  memory dst(wanted, engine());
  dnnl::reorder(src, dst).execute(stream(), src, dst);
  stream().wait();
  // A different tensor at this address (the old one was freed): drop what was cached for the old one.
  std::erase_if(entries, [&](const ReorderedWeights& e) { return e.print != print; });
  entries.push_back({print, user, wanted, dst});
  return dst;
}

void execute(const dnnl::primitive& p, const std::unordered_map<int, memory>& args) {
  p.execute(stream(), args);
  stream().wait();
}

memory wrap(const memory::desc& md, const float* data) {
  return memory(md, engine(), const_cast<float*>(data));
}

memory::desc plain_desc(const Shape& shape) {
  memory::dims dims(shape.begin(), shape.end());
  memory::dims strides(dims.size());
  memory::dim s = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    strides[i] = s;
    s *= dims[i];
  }
  return memory::desc(dims, memory::data_type::f32, strides);
}

memory::desc strided_desc(const memory::dims& dims, const memory::dims& strides) {
  return memory::desc(dims, memory::data_type::f32, strides);
}

std::string dims_key(const Shape& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(shape[i]);
  }
  return s;
}

dnnl::primitive_attr activation_attr(Act act, float alpha) {
  dnnl::primitive_attr attr;
  if (alpha != 1.f) attr.set_output_scales(0, {alpha});
  if (act != Act::none) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, act == Act::relu ? dnnl::algorithm::eltwise_relu : dnnl::algorithm::eltwise_gelu_erf,
                       0.f, 0.f);
    attr.set_post_ops(ops);
  }
  return attr;
}

}  // namespace sammpa::sam::nn::detail

namespace sammpa::sam::nn {

void clear_caches() {
  std::lock_guard<std::mutex> lock(detail::cache_mutex());
  detail::primitives().clear();
  detail::weight_cache().clear();
}

}  // namespace sammpa::sam::nn
