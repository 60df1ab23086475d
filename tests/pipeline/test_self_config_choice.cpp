// The leave-one-out's last step: which mode, and whether steps 3-4 are kept, from the supports' scores.
#include <gtest/gtest.h>

#include "pipeline/self_config.h"

using namespace sammpa;

namespace {

using Scores = std::vector<double>;  // one per support

// Coarse and final Dice per support for registration and feature, final for ranked (whose coarse masks are
// feature propagation's, as in the pipeline).
LeaveOneOut scores(Scores reg_coarse, Scores reg_final, Scores feat_coarse, Scores feat_final, Scores ranked) {
  LeaveOneOut loo;
  loo.coarse_dice = {{"registration", reg_coarse}, {"feature", feat_coarse}, {"ranked", feat_coarse}};
  loo.final_dice = {{"registration", reg_final}, {"feature", feat_final}, {"ranked", ranked}};
  return loo;
}

}  // namespace

TEST(SelfConfigChoice, CoarseMasksWinOnlyWhereStepsThreeAndFourClearlyLoweredThem) {
  // Three phantom supports (measured): registration's coarse masks ahead by 0.003 +- 0.004: steps 3-4 kept.
  LeaveOneOut loo = scores({0.983, 0.975, 0.967}, {0.973, 0.980, 0.963}, {0.972, 0.972, 0.957},
                           {0.966, 0.973, 0.958}, {0.951, 0.951, 0.921});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::registration);
  EXPECT_FALSE(loo.keep_coarse);
  // A checkpoint that makes registration's masks worse on every support: its coarse masks win.
  loo = scores({0.95, 0.96, 0.94}, {0.91, 0.93, 0.90}, {0.90, 0.91, 0.92}, {0.92, 0.92, 0.92}, {0.6, 0.6, 0.6});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::registration);
  EXPECT_TRUE(loo.keep_coarse);
  // Feature propagation's coarse masks above every final mask, and clearly above its own final ones.
  loo = scores({0.1, 0.1, 0.1}, {0.1, 0.1, 0.1}, {0.8, 0.85, 0.9}, {0.7, 0.72, 0.8}, {0.75, 0.7, 0.8});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::feature);
  EXPECT_TRUE(loo.keep_coarse);
  // Coarse ahead on average (0.833), but by one support only: within the noise, steps 3-4 kept, ranked wins.
  loo = scores({0.1, 0.1, 0.1}, {0.1, 0.1, 0.1}, {0.65, 0.72, 1.13}, {0.7, 0.72, 0.8}, {0.75, 0.7, 0.8});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::ranked);
  EXPECT_FALSE(loo.keep_coarse);
  // Equal scores keep steps 3-4; one support cannot show anything.
  loo = scores({0.5, 0.5}, {0.5, 0.5}, {0.6, 0.6}, {0.6, 0.6}, {0.55, 0.55});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::feature);
  EXPECT_FALSE(loo.keep_coarse);
  loo = scores({0.9}, {0.5}, {0.1}, {0.1}, {0.1});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::registration);
  EXPECT_FALSE(loo.keep_coarse);
}
