#pragma once
// Reads official PyTorch checkpoints (torch.save zip archives holding a state_dict) without PyTorch and
// without executing anything from the file: the zip container plus the small subset of the pickle protocol
// that state_dicts use. Tensor data is memory-mapped from the file, not copied.
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/error.h"
#include "sam/nn/tensor.h"

namespace sammpa::sam {

// A checkpoint that cannot be used; the message names the file and the problem (missing key, wrong shape,
// truncated archive, unsupported pickle opcode or global, legacy non-zip format, ...).
// A user error like any bad input file (the CLI prints it and exits 2).
class CheckpointError : public InputError {
 public:
  using InputError::InputError;
};

class Checkpoint {
 public:
  static Checkpoint open(const std::filesystem::path& file);

  const std::filesystem::path& file() const;
  bool has(const std::string& key) const;
  std::vector<std::string> keys() const;  // sorted
  size_t size() const;                     // number of tensors
  // The stored shape of `key` without reading its data. Throws CheckpointError if the key is missing.
  Shape shape(const std::string& key) const;

  // The float32 tensor stored under `key` (a view into the mapped file, which stays mapped while the view or a
  // copy of it lives). Throws CheckpointError naming the key if it is missing.
  // Tensors stored as float16/bfloat16/float64/integers, or with non-contiguous strides, come back as an owned
  // contiguous float32 copy instead of a view.
  Tensor get(const std::string& key) const;
  // Same, and checks the shape: "<file>: 'key' has shape [a, b] but the model expects [c, d]".
  Tensor get(const std::string& key, const Shape& expected) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sammpa::sam
