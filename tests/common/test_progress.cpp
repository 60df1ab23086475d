// Progress bars: with stderr not a terminal (a log), one line per tenth of the work; a bar made while another is
// drawing (a step's inner loop) prints nothing, and the next bar after the outer one prints again.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "common/progress.h"

namespace sammpa {
namespace {

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Progress, LogsOneLinePerTenthAndNothingForABarInsideAnother) {
  testing::internal::CaptureStderr();
  {
    Progress outer("outer", 20);
    for (int i = 0; i < 20; ++i) {
      Progress inner("inner", 1);
      inner.tick();
      inner.finish();
      outer.tick();
    }
    outer.finish();
    Progress next("next", 4);
    next.tick(4);
  }
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(count(log, "inner"), 0) << log;
  EXPECT_EQ(count(log, "outer: "), 11) << log;  // 0%, 10%, ..., 100%
  EXPECT_NE(log.find("outer: 20/20 (100%)"), std::string::npos) << log;
  EXPECT_NE(log.find("next: 4/4 (100%)"), std::string::npos) << log;
}

TEST(Progress, ABarLeftUnfinishedByAnErrorStillGivesWayWhenDestroyed) {
  testing::internal::CaptureStderr();
  try {
    Progress failing("failing", 3);
    failing.tick();
    throw std::runtime_error("step failed");
  } catch (const std::runtime_error&) {
  }
  Progress after("after", 2);
  after.tick(2);
  after.finish();
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("after: 2/2 (100%)"), std::string::npos) << log;
}

}  // namespace
}  // namespace sammpa
