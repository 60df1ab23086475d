// parallel_for: every index runs once, and the error reported is the same on every run whatever the timing.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/parallel.h"

namespace sammpa {
namespace {

TEST(ParallelFor, RunsEveryIndexOnce) {
  std::vector<std::atomic<int>> hits(1000);
  parallel_for(hits.size(), 4, [&](size_t i) { hits[i]++; });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ParallelFor, ReportsTheLowestFailedIndexWhateverTheTiming) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::string message;
    try {
      // Later indices fail fast, index 3 fails slowly: a first-come rule would often report a later one.
      parallel_for(64, 4, [](size_t i) {
        if (i < 3) return;
        if (i == 3) {
          volatile double x = 0;
          for (int k = 0; k < 200000; ++k) x = x + 1;
        }
        throw std::runtime_error("index " + std::to_string(i));
      });
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    ASSERT_EQ(message, "index 3") << "attempt " << attempt;
  }
}

}  // namespace
}  // namespace sammpa
