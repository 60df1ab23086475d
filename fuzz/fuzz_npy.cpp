// The .npy reader (test fixtures, soft maps).
#include <exception>

#include "common/npy.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = sammpa::fuzz::input_file(data, size, ".npy");
  try {
    sammpa::read_npy(file);
  } catch (const std::exception&) {
  }
  return 0;
}
