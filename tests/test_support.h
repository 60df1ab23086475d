#pragma once
// Shared helpers for tests: where the real data is, temporary folders.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "common/error.h"

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

// The message of the InputError that f throws ("" if it throws none).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the sammpa program (quiet) with `args` (a shell-quoted string); returns its exit status and output.
struct CliRun {
  int status = -1;
  std::string out, err;
};
// `cwd`: the folder to run it in (default: the test's own).
inline CliRun run_sammpa(const std::string& args, const std::filesystem::path& cwd = {}) {
  TempDir tmp;
  const auto err = tmp / "stderr.txt";
  std::string cmd = std::string(SAMMPA_BINARY_DIR "/bin/sammpa -q ") + args + " 2>" + err.string();
  if (!cwd.empty()) cmd = "cd '" + cwd.string() + "' && " + cmd;
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = read_text(err);
  return r;
}

// Number of regular files under `dir` (0 if it does not exist): checks that failures leave nothing behind.
inline size_t count_files(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir)) return 0;
  size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

}  // namespace sammpa::test
