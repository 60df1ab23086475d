// The pickle interpreter that reads PyTorch checkpoints' data.pkl, fed raw bytes.
#include <exception>
#include <string_view>

#include "sam/checkpoint/pickle_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    sammpa::sam::detail::load_pickle(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const std::exception&) {
  }
  return 0;
}
