#pragma once
// Shared helpers for tests: where the real data is, temporary folders.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace sammpa::test {

// ../shared/data next to the checkout, or $SAMMPA_DATA.
inline std::filesystem::path data_root() {
  if (const char* e = std::getenv("SAMMPA_DATA"); e && *e) return e;
  return std::filesystem::path(SAMMPA_SOURCE_DIR) / ".." / "shared" / "data";
}

// A fresh empty folder under the build tree, removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::path(SAMMPA_BINARY_DIR) / "tmp" /
            (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
             std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

 private:
  std::filesystem::path path_;
};

}  // namespace sammpa::test
