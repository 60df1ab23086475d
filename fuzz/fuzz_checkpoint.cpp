// A whole checkpoint file (zip container, pickle, tensor records): open it and read every tensor.
#include <exception>

#include "fuzz_common.h"
#include "sam/checkpoint/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = sammpa::fuzz::input_file(data, size, ".pt");
  try {
    const auto ckpt = sammpa::sam::Checkpoint::open(file);
    for (const auto& key : ckpt.keys()) ckpt.get(key);
  } catch (const std::exception&) {
  }
  return 0;
}
