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

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// The real checkpoint a variable of scripts/test.sh names, or empty.
fs::path env_file(const char* name) {
  const char* v = std::getenv(name);
  return v && fs::is_regular_file(v) ? fs::path(v) : fs::path();
}

}  // namespace

TEST(ExtraCheckpoint, AutoTakesTheCachedLiteMedSamUnlessItIsTheRunsOwnOrDamaged) {
  const fs::path real_mobile = env_file("SAMMPA_MOBILE_SAM"), real_lite = env_file("SAMMPA_LITE_MEDSAM");
  if (real_mobile.empty() || real_lite.empty()) GTEST_SKIP() << "SAMMPA_MOBILE_SAM / SAMMPA_LITE_MEDSAM not set";
  const fs::path cache = fs::temp_directory_path() / ("sammpa_extra_" + std::to_string(::getpid()));
  fs::remove_all(cache);
  fs::create_directories(cache);
  const ScopedEnv env("SAMMPA_CACHE", cache.string());
  const ScopedEnv no_default("SAMMPA_CHECKPOINT", "");
  const fs::path mobile = cache / "mobile_sam.pt", lite = cache / "lite_medsam.pth";
  fs::create_symlink(real_mobile, mobile);
  EXPECT_TRUE(resolve_extra_checkpoint("auto", "").empty());  // nothing cached: the run's checkpoint alone
  fs::create_symlink(real_lite, lite);
  EXPECT_EQ(resolve_extra_checkpoint("auto", ""), lite);        // beside the default MobileSAM
  EXPECT_EQ(resolve_extra_checkpoint("auto", mobile), lite);
  EXPECT_TRUE(resolve_extra_checkpoint("auto", real_lite).empty());  // LiteMedSAM is the run's checkpoint
  EXPECT_TRUE(resolve_extra_checkpoint("none", "").empty());
  EXPECT_TRUE(resolve_extra_checkpoint("", "").empty());
  EXPECT_EQ(resolve_extra_checkpoint(mobile.string(), lite), mobile);  // a file named is taken as it is
  EXPECT_THROW(resolve_extra_checkpoint((cache / "missing.pth").string(), ""), InputError);
  fs::remove(lite);
  write(lite, "not a checkpoint");  // a damaged cache: a warning, and the run goes on without it
  EXPECT_TRUE(resolve_extra_checkpoint("auto", "").empty());
  fs::remove_all(cache);
}
