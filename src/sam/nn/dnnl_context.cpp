#include "sam/nn/dnnl_context.h"

#include <cstdlib>
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

// A weight tensor's copy in the layout a primitive wants. Keyed by identity: the tensor's address and what keeps
// its memory alive (Tensor::owner); once that is freed (its model is gone), the entry is dropped.
struct ReorderedWeights {
  std::weak_ptr<const void> owner;
  memory::desc user, wanted;
  memory mem;
};

std::map<const float*, std::vector<ReorderedWeights>>& weight_cache() {
  static std::map<const float*, std::vector<ReorderedWeights>> m;
  return m;
}

bool same_owner(const std::weak_ptr<const void>& a, const std::weak_ptr<const void>& b) {
  return !a.owner_before(b) && !b.owner_before(a);
}

// Caller holds cache_mutex().
void drop_freed_weights() {
  auto& cache = weight_cache();
  for (auto it = cache.begin(); it != cache.end();) {
    std::erase_if(it->second, [](const ReorderedWeights& e) { return e.owner.expired(); });
    it = it->second.empty() ? cache.erase(it) : std::next(it);
  }
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
  auto reorder = [&] { return packed_copy(user, w.data(), wanted); };
  const std::weak_ptr<const void> owner = w.owner();
  if (owner.expired()) return reorder();  // a bare view: its lifetime is unknown, so nothing is cached
  std::lock_guard<std::mutex> lock(cache_mutex());
  drop_freed_weights();
  auto& entries = weight_cache()[w.data()];
  for (auto& e : entries)
    if (same_owner(e.owner, owner) && e.user == user && e.wanted == wanted) return e.mem;
  const memory dst = reorder();
  entries.push_back({owner, user, wanted, dst});
  return dst;
}

void execute(const dnnl::primitive& p, const std::unordered_map<int, memory>& args) {
  p.execute(stream(), args);
  stream().wait();
}

memory packed_copy(const memory::desc& user, const void* data, const memory::desc& wanted) {
  memory src = wrap(user, data), dst(wanted, engine());
  dnnl::reorder(src, dst).execute(stream(), src, dst);
  stream().wait();
  return dst;
}

bool bf16_products() {
  static const bool amx = dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core_amx;
  const char* asked = std::getenv("SAMMPA_BF16");  // read as each layer is built (at load time)
  return amx && asked && std::string(asked) == "1";
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

dnnl::primitive_attr post_ops_attr(bool accumulate, bool gelu, bool user_scratchpad) {
  dnnl::post_ops ops;
  if (accumulate) ops.append_sum(1.f);
  if (gelu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_erf, 0.f, 0.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  if (user_scratchpad) attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

}  // namespace sammpa::sam::nn::detail

namespace sammpa::sam::nn {

void clear_caches() {
  std::lock_guard<std::mutex> lock(detail::cache_mutex());
  detail::primitives().clear();
  detail::weight_cache().clear();
}

size_t cached_weight_copies() {
  std::lock_guard<std::mutex> lock(detail::cache_mutex());
  detail::drop_freed_weights();
  size_t n = 0;
  for (const auto& [address, entries] : detail::weight_cache()) n += entries.size();
  return n;
}

}  // namespace sammpa::sam::nn
