#pragma once
// Exceptions and OpenMP: an exception that leaves an OpenMP parallel region calls std::terminate (the
// process dies without a message). Every parallel region runs its work through ParallelErrors::run, which
// catches, keeps the first exception, and skips the remaining work; the region ends normally (no thread
// misses a barrier) and rethrow() then throws the exception in the calling thread.
//
//   ParallelErrors errors;
//   #pragma omp parallel for
//   for (int64_t i = 0; i < n; ++i) errors.run([&] { work(i); });
//   errors.rethrow();
#include <atomic>
#include <exception>
#include <mutex>
#include <utility>

namespace sammpa {

class ParallelErrors {
 public:
  // Runs f() unless some call has failed already; never throws.
  template <typename F>
  void run(F&& f) noexcept {
    if (failed_.load(std::memory_order_acquire)) return;
    try {
      std::forward<F>(f)();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!first_) first_ = std::current_exception();
      failed_.store(true, std::memory_order_release);
    }
  }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // Call after the parallel region, in the thread that started it.
  void rethrow() const {
    if (first_) std::rethrow_exception(first_);
  }

 private:
  std::atomic<bool> failed_{false};
  std::mutex mutex_;
  std::exception_ptr first_;
};

}  // namespace sammpa
