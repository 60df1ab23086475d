// Support lists (--support FILE.json / FILE.txt).
#include <exception>

#include "fuzz_common.h"
#include "select/support_list.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const char* ext : {".json", ".txt"}) {
    const auto file = sammpa::fuzz::input_file(data, size, ext);
    try {
      sammpa::read_support_list(file.string());
    } catch (const std::exception&) {
    }
  }
  return 0;
}
