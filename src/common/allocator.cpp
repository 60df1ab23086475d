#include "common/allocator.h"

#include <malloc.h>

namespace sammpa {

void keep_freed_memory_in_heap() {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace sammpa
