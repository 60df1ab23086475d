// Saved SAM embeddings (.samemb: magic, JSON header, float32 data), as the embedding caches read them.
#include <exception>

#include "fuzz_common.h"
#include "sam/image_embedding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = sammpa::fuzz::input_file(data, size, ".samemb");
  try {
    sammpa::sam::ImageEmbedding::load(file);
  } catch (const std::exception&) {
  }
  return 0;
}
