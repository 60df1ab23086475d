#include "common/parallel.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace sammpa {

int default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

void parallel_for(size_t n, int threads, const std::function<void(size_t)>& body) {
  if (threads <= 0) threads = default_threads();
  if (threads == 1 || n <= 1) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  size_t error_index = n;
  std::mutex mu;
  auto worker = [&] {
    for (size_t i; !failed && (i = next.fetch_add(1)) < n;) {
      try {
        body(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        // Indices are handed out in order, so every index below a failed one has started and will finish:
        // keeping the lowest failed index makes the reported error the same whatever the thread timing.
        if (i < error_index) {
          error_index = i;
          error = std::current_exception();
        }
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  int count = static_cast<int>(std::min<size_t>(n, static_cast<size_t>(threads)));
  for (int t = 0; t < count; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace sammpa
