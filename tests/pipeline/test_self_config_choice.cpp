// The leave-one-out's last step: which mode, and whether steps 3-4 are kept, from the supports' scores.
#include <gtest/gtest.h>

#include "pipeline/self_config.h"

using namespace sammpa;

namespace {

LeaveOneOut scores(std::vector<double> reg, std::vector<double> feat, std::vector<double> ranked) {
  // Each pair: coarse, final (the ranked mode's coarse is feature propagation's, as in the pipeline).
  LeaveOneOut loo;
  loo.coarse_dice = {{"registration", {reg[0]}}, {"feature", {feat[0]}}, {"ranked", {feat[0]}}};
  loo.final_dice = {{"registration", {reg[1]}}, {"feature", {feat[1]}}, {"ranked", {ranked[0]}}};
  return loo;
}

}  // namespace

TEST(SelfConfigChoice, CoarseMasksWinOnlyWhereStepsThreeAndFourLoweredThem) {
  // Chest X-ray with MobileSAM (measured): registration coarse 0.959, final 0.965: steps 3-4 kept.
  LeaveOneOut loo = scores({0.959, 0.965}, {0.934, 0.939}, {0.693});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::registration);
  EXPECT_FALSE(loo.keep_coarse);
  // A checkpoint that makes registration's masks worse: its coarse masks win.
  loo = scores({0.943, 0.911}, {0.90, 0.92}, {0.6});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::registration);
  EXPECT_TRUE(loo.keep_coarse);
  // Feature propagation's coarse masks above every final mask.
  loo = scores({0.1, 0.1}, {0.8, 0.7}, {0.75});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::feature);
  EXPECT_TRUE(loo.keep_coarse);
  // A tie keeps steps 3-4; the ranked mode's copy of the feature coarse masks is never chosen as ranked.
  loo = scores({0.5, 0.5}, {0.9, 0.6}, {0.85});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::feature);
  EXPECT_TRUE(loo.keep_coarse);
  loo = scores({0.5, 0.5}, {0.6, 0.6}, {0.55});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::feature);
  EXPECT_FALSE(loo.keep_coarse);
  loo = scores({0.2, 0.3}, {0.4, 0.5}, {0.8});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::ranked);
  EXPECT_FALSE(loo.keep_coarse);
}
