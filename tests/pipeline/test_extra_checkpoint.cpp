// Which second checkpoint the ranked mode uses: "auto" finds LiteMedSAM in the checkpoint cache.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "common/error.h"
#include "pipeline/ranked.h"

namespace fs = std::filesystem;
using namespace sammpa;

namespace {

// Sets an environment variable for the scope and restores it (or its absence) afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

void touch(const fs::path& p) { std::ofstream(p) << "x"; }

}  // namespace

TEST(ExtraCheckpoint, AutoTakesTheCachedLiteMedSamUnlessItIsTheRunsOwn) {
  const fs::path cache = fs::temp_directory_path() / ("sammpa_extra_" + std::to_string(::getpid()));
  fs::remove_all(cache);
  fs::create_directories(cache);
  const ScopedEnv env("SAMMPA_CACHE", cache.string());
  const ScopedEnv no_default("SAMMPA_CHECKPOINT", "");
  const fs::path mobile = cache / "mobile_sam.pt", lite = cache / "lite_medsam.pth";
  touch(mobile);
  EXPECT_TRUE(resolve_extra_checkpoint("auto", "").empty());  // nothing cached: the run's checkpoint alone
  touch(lite);
  EXPECT_EQ(resolve_extra_checkpoint("auto", ""), lite);        // beside the default MobileSAM
  EXPECT_EQ(resolve_extra_checkpoint("auto", mobile), lite);
  EXPECT_TRUE(resolve_extra_checkpoint("auto", lite).empty());  // LiteMedSAM is already the run's checkpoint
  EXPECT_TRUE(resolve_extra_checkpoint("none", "").empty());
  EXPECT_TRUE(resolve_extra_checkpoint("", "").empty());
  EXPECT_EQ(resolve_extra_checkpoint(mobile.string(), lite), mobile);  // a file named is taken as it is
  EXPECT_THROW(resolve_extra_checkpoint((cache / "missing.pth").string(), ""), InputError);
  fs::remove_all(cache);
}
