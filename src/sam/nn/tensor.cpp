#include "sam/nn/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace sammpa::sam {

static int64_t count(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

Tensor::Tensor(Shape shape) : shape_(std::move(shape)) {
  // The byte count, checked for overflow: a shape read from a file must not wrap around to a small buffer.
  int64_t n = 1, bytes64 = 0;
  for (auto d : shape_) {
    if (d < 0) throw std::invalid_argument("Tensor: negative dimension in " + shape_str());
    if (__builtin_mul_overflow(n, d, &n)) throw std::length_error("Tensor: shape " + shape_str() + " is too large");
  }
  if (__builtin_mul_overflow(n, static_cast<int64_t>(sizeof(float)), &bytes64) ||
      __builtin_add_overflow(bytes64, int64_t{63}, &bytes64))
    throw std::length_error("Tensor: shape " + shape_str() + " is too large");
  const size_t bytes = static_cast<size_t>(bytes64) / 64 * 64;  // aligned_alloc needs a multiple of the alignment
  void* p = std::aligned_alloc(64, bytes ? bytes : 64);
  if (!p) throw std::bad_alloc();
  owner_.reset(static_cast<float*>(p), [](float* q) { std::free(q); });
  data_ = owner_.get();
}

Tensor Tensor::zeros(Shape shape) {
  Tensor t(std::move(shape));
  std::memset(t.data_, 0, static_cast<size_t>(t.numel()) * sizeof(float));
  return t;
}

Tensor Tensor::view(const float* data, Shape shape, std::shared_ptr<const void> keep_alive) {
  Tensor t;
  t.data_ = const_cast<float*>(data);  // views of read-only weights are never written by the engine
  if (keep_alive) t.owner_ = std::shared_ptr<float>(std::move(keep_alive), t.data_);  // shares its lifetime
  t.shape_ = std::move(shape);
  return t;
}

int64_t Tensor::numel() const { return data_ ? count(shape_) : 0; }

Tensor Tensor::reshaped(Shape shape) const {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw std::invalid_argument("reshape: more than one -1");
      infer = static_cast<int64_t>(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0 && known > 0) shape[infer] = numel() / known;
  if (count(shape) != numel())
    throw std::invalid_argument("reshape: cannot view " + shape_str() + " with " + std::to_string(count(shape)) +
                                " elements");
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(shape_);
  std::memcpy(t.data_, data_, static_cast<size_t>(numel()) * sizeof(float));
  return t;
}

std::string Tensor::shape_str() const {
  std::string s = "[";
  for (size_t i = 0; i < shape_.size(); ++i) s += (i ? ", " : "") + std::to_string(shape_[i]);
  return s + "]";
}

}  // namespace sammpa::sam
