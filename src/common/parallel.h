#pragma once
// parallel_for over an index range with a fixed number of std::threads (dynamic scheduling, one index at a
// time). After a failure no new index starts; the exception of the lowest failed index is rethrown in the
// caller after all workers stop, so the error a user sees does not depend on thread timing.
#include <cstddef>
#include <functional>

namespace sammpa {

// threads <= 0 means all hardware threads.
void parallel_for(size_t n, int threads, const std::function<void(size_t)>& body);
int default_threads();

}  // namespace sammpa
