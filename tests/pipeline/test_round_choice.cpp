// The ranked mode's decisions from the supports' held-out Dice: whether its rounds after the choice are used
// (use_round), whether an answer may hold several objects (use_several_objects).
#include <gtest/gtest.h>

#include "pipeline/ranked.h"

using namespace sammpa;

TEST(RoundChoice, OnAndOffAreObeyed) {
  EXPECT_TRUE(use_round(RankedRound::on, {0.1, 0.1, 0.1}, {0.9, 0.9, 0.9}, false));
  EXPECT_FALSE(use_round(RankedRound::off, {0.9, 0.9, 0.9}, {0.1, 0.1, 0.1}, true));
}

TEST(RoundChoice, TheLastRoundNeedsAGain) {
  EXPECT_TRUE(use_round(RankedRound::automatic, {0.80, 0.70, 0.0}, {0.78, 0.70, 0.0}, false));
  EXPECT_FALSE(use_round(RankedRound::automatic, {0.78, 0.70, 0.0}, {0.80, 0.70, 0.0}, false));
  EXPECT_FALSE(use_round(RankedRound::automatic, {0.8, 0.7}, {0.8, 0.7}, false));  // no change: no gain
}

TEST(RoundChoice, TheBoxRoundStaysUnlessTheSupportsClearlyLose) {
  // The held-out Dice of BUSI's K = 10 random seed 2 supports (busi_sub; ranker.json): a near-tie against the
  // round (mean 0.655 with, 0.658 without; six supports changed, +0.005 +- 0.041 lost). Kept now; on those
  // queries the round raised the lesion Dice from 0.654 to 0.673.
  const std::vector<double> with = {0.532, 0.941, 0.0, 0.829, 0.717, 0.534, 0.001, 1.0, 1.0, 1.0};
  const std::vector<double> without = {0.503, 0.942, 0.0, 0.682, 0.760, 0.695, 0.0, 1.0, 1.0, 1.0};
  EXPECT_FALSE(use_round(RankedRound::automatic, with, without, false));  // the mean alone would drop it
  EXPECT_TRUE(use_round(RankedRound::automatic, with, without, true));
  // Every support it changes loses: dropped.
  const std::vector<double> worse = {0.45, 0.90, 0.0, 0.60, 0.70, 0.62, 0.0, 1.0, 1.0, 1.0};
  EXPECT_FALSE(use_round(RankedRound::automatic, worse, without, true));
  // Fewer than three supports changed: the means decide.
  EXPECT_FALSE(use_round(RankedRound::automatic, {0.5, 0.7, 1.0}, {0.6, 0.7, 1.0}, true));
  EXPECT_TRUE(use_round(RankedRound::automatic, {0.7, 0.7, 1.0}, {0.6, 0.7, 1.0}, true));
}

TEST(SeveralObjects, NeedASupportThatShowsThem) {
  // Five supports of one lesion each; the union of candidates wins held out on three of them by hedging.
  const std::vector<double> hedging = {0.0, 0.45, 0.0, 0.40, 0.35};
  EXPECT_FALSE(use_several_objects(hedging, 5, 0));
  EXPECT_TRUE(use_several_objects(hedging, 5, 1));  // one support shows two: the clear gain decides
  // Most supports hold several (two lungs) and several cost nothing: used, with no gain needed.
  EXPECT_TRUE(use_several_objects({0.0, 0.0, 0.0, 0.0, 0.0}, 5, 5));
  EXPECT_FALSE(use_several_objects({0.0, -0.1, 0.0, 0.0, 0.0}, 5, 5));
  // A minority shows several and the gain is not clear: one object.
  EXPECT_FALSE(use_several_objects({0.0, 0.3, -0.2, 0.0, 0.0}, 5, 2));
}
