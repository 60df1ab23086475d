#pragma once
// Dense float32 tensor for the SAM engine: row-major (last dimension contiguous), 64-byte aligned when it owns
// its memory, or a non-owning view of memory owned elsewhere (e.g. weights mapped from a checkpoint file).
// Copies share memory (like torch.Tensor); use clone() for a deep copy.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace sammpa::sam {

using Shape = std::vector<int64_t>;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape);                        // owning, uninitialised
  static Tensor zeros(Shape shape);                    // owning, filled with 0
  // Non-owning: the caller keeps `data` alive, or hands over what does (`keep_alive`, e.g. the mapped file whose
  // bytes the view shows), which the view and its copies then hold.
  static Tensor view(const float* data, Shape shape, std::shared_ptr<const void> keep_alive = nullptr);

  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_[i < 0 ? i + rank() : i]; }  // negative i counts from the end
  int64_t numel() const;
  bool empty() const { return data_ == nullptr; }

  float* data() { return data_; }
  const float* data() const { return data_; }

  Tensor reshaped(Shape shape) const;  // same memory, numel must match (one -1 allowed)
  Tensor clone() const;
  std::string shape_str() const;  // "[1, 256, 64, 64]"
  // What keeps the memory alive (expired for a bare view): the identity the ops' weight cache keys on.
  std::weak_ptr<const void> owner() const { return owner_; }

 private:
  std::shared_ptr<float> owner_;  // null for bare views
  float* data_ = nullptr;
  Shape shape_;
};

}  // namespace sammpa::sam
