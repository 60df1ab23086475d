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

// The same with the fused maps' coarse and final Dice per support.
LeaveOneOut scores(Scores reg_coarse, Scores reg_final, Scores feat_coarse, Scores feat_final, Scores ranked,
                   Scores fused_coarse, Scores fused_final) {
  LeaveOneOut loo = scores(reg_coarse, reg_final, feat_coarse, feat_final, ranked);
  loo.coarse_dice["fused"] = fused_coarse;
  loo.final_dice["fused"] = fused_final;
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

TEST(SelfConfigChoice, ModesAreComparedOnTheSupportsWithAnObjectTheRankedModeWithoutEmptyAnswers) {
  // Five BUSI supports (k-centroid, K = 5; measured): two normal images, three lesions. Registration answers
  // the normal ones empty and finds no lesion; the ranked mode's nested "no object" threshold, fitted on three
  // or four supports, blanked two lesions that its ranker had found.
  LeaveOneOut loo = scores({1, 0, 0, 1, 0}, {1, 0, 0, 1, 0}, {0, 0.734, 0.352, 1, 0.771}, {0, 0.787, 0.474, 1, 0.810},
                           {0, 0, 0, 1, 0.962});
  choose_from_scores(loo);  // every support, as given: feature 0.614, registration 0.4, ranked 0.392
  EXPECT_EQ(loo.chosen, Propagation::registration);  // feature's lead over registration: 0.214 +- 0.33
  EXPECT_NE(loo.why.find("feature led registration by 0.214"), std::string::npos) << loo.why;
  loo.has_object = {false, true, true, false, true};
  loo.ranked_found = {0, 0.791, 0.673, 0, 0.962};
  choose_from_scores(loo);  // on the three lesions: ranked 0.809, feature 0.690, registration 0
  EXPECT_EQ(loo.chosen, Propagation::ranked);
  EXPECT_NEAR(loo.compared.at("ranked"), (0.791 + 0.673 + 0.962) / 3, 1e-9);
  EXPECT_NEAR(loo.compared.at("feature"), (0.787 + 0.474 + 0.810) / 3, 1e-9);
  EXPECT_NEAR(loo.compared.at("registration"), 0.0, 1e-9);
  // Registration's empty answers on object-free supports no longer outweigh a mode that finds the objects.
  loo = scores({1, 1, 0.2}, {1, 1, 0.2}, {0, 0, 0.6}, {0, 0, 0.7}, {0, 0, 0.5});
  loo.has_object = {false, false, true};
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::feature);
  // No support with an object: every support counts, as before.
  loo.has_object = {false, false, false};
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::registration);
}

TEST(SelfConfigChoice, FeaturePropagationMustLeadTheRankedModeBeyondTheNoise) {
  // Ten BUSI lesion supports (K = 10, random seed 6; measured): feature propagation led by 0.038 +- 0.089, and
  // the ranked mode, forced, gave the queries 0.743 against feature propagation's 0.548.
  const Scores feature = {0.082, 0.565, 0.693, 0.0, 0.439, 0.326, 0.303, 0.883, 0.897, 0.923};
  const Scores ranked = {0.029, 0.140, 0.120, 0.0, 0.737, 0.670, 0.260, 0.900, 0.920, 0.953};
  const Scores registration = {0.0, 0.642, 0.326, 0.0, 0.273, 0.730, 0.0, 0.553, 0.327, 0.228};
  LeaveOneOut loo = scores(registration, registration, feature, feature, ranked);
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::ranked);
  EXPECT_GT(loo.compared.at("feature"), loo.compared.at("ranked"));  // the means are kept as measured
  // A lead beyond one standard error stands: feature propagation 0.1 higher on every support.
  Scores ahead = ranked;
  for (double& d : ahead) d += 0.1;
  loo = scores(registration, registration, ahead, ahead, ranked);
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::feature);
  // The fused maps are held to the same: ahead of feature propagation by 0.01 on every support, and of the
  // ranked mode within the noise, they leave the choice to the ranked mode.
  Scores fused = feature;
  for (double& d : fused) d += 0.01;
  loo = scores(registration, registration, feature, feature, ranked);
  loo.coarse_dice["fused"] = loo.final_dice["fused"] = fused;
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::ranked);
  EXPECT_NE(loo.why.find("fused led ranked by 0.048"), std::string::npos) << loo.why;
  // Registration keeps what it wins: the override is between feature propagation and the ranked mode only.
  loo = scores(ahead, ahead, feature, feature, ranked);
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::registration);
}

TEST(SelfConfigChoice, RegistrationStaysUnlessClearlyBeaten) {
  // Five chest X-ray supports (K = 5, random seed 1; measured): the ranked mode led registration by 0.008 +-
  // 0.021 and gave the queries 0.915, registration 0.951.
  const Scores registration = {0.958, 0.962, 0.962, 0.960, 0.882};
  const Scores feature = {0.942, 0.925, 0.926, 0.957, 0.879};
  const Scores ranked = {0.963, 0.911, 0.968, 0.962, 0.962};
  LeaveOneOut loo = scores(registration, registration, feature, feature, ranked);
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::registration);
  EXPECT_NE(loo.why.find("ranked led registration by 0.008"), std::string::npos) << loo.why;
  EXPECT_GT(loo.compared.at("ranked"), loo.compared.at("registration"));
  // Two supports give a standard error from one difference: the means decide (BUSI, K = 2: the ranked mode's
  // 0.010 against 0 found lesions on the queries, 0.30 against 0.03).
  loo = scores({0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0.02});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::ranked);
  EXPECT_TRUE(loo.why.empty());
  // Registration is judged against the best mode: feature propagation beats it clearly (+0.2 on every
  // support), so it goes, even though the ranked mode, taken over feature propagation within the noise
  // (0.087 +- 0.133), would not have beaten it clearly alone.
  loo = scores({0.5, 0.6, 0.7, 0.5}, {0.5, 0.6, 0.7, 0.5}, {0.7, 0.8, 0.9, 0.7}, {0.7, 0.8, 0.9, 0.7},
               {0.9, 0.4, 0.95, 0.5});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::ranked);
  EXPECT_NE(loo.why.find("feature led ranked by 0.087"), std::string::npos) << loo.why;
}

TEST(SelfConfigChoice, FusedSoftMapsNeedOnlyTheHigherMeanOverRegistration) {
  // Ten chest X-ray supports (cxr_sub, K = 10 k-centroid, LiteMedSAM in the soft map; measured): the fused soft
  // maps led registration by 0.002 +- 0.001 on the final masks, and gave the queries 0.9518 against 0.9509.
  const Scores registration = {0.967, 0.932, 0.962, 0.976, 0.981, 0.965, 0.970, 0.973, 0.968, 0.969};
  const Scores reg_coarse = {0.963, 0.927, 0.953, 0.937, 0.970, 0.950, 0.968, 0.960, 0.959, 0.962};
  const Scores feature = {0.969, 0.933, 0.966, 0.970, 0.977, 0.973, 0.961, 0.973, 0.952, 0.969};
  const Scores feat_coarse = {0.969, 0.932, 0.957, 0.941, 0.971, 0.964, 0.961, 0.964, 0.945, 0.965};
  const Scores fused = {0.970, 0.932, 0.971, 0.976, 0.980, 0.972, 0.970, 0.975, 0.966, 0.971};
  const Scores fused_coarse = {0.970, 0.932, 0.968, 0.953, 0.975, 0.961, 0.970, 0.966, 0.961, 0.970};
  const Scores ranked = {0.959, 0.931, 0.967, 0.944, 0.975, 0.972, 0.904, 0.912, 0.969, 0.957};
  LeaveOneOut loo = scores(reg_coarse, registration, feat_coarse, feature, ranked);
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::registration);  // without the fused maps: registration
  loo.coarse_dice["fused"] = fused_coarse;
  loo.final_dice["fused"] = fused;
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::fused);
  EXPECT_FALSE(loo.keep_coarse);
  EXPECT_TRUE(loo.why.empty()) << loo.why;
  EXPECT_NEAR(loo.compared.at("fused"), 0.9683, 1e-9);
  // The same mean lead carried by one support alone is within the noise: the fused maps hold registration's
  // vote, so they stay, and the run says why (chest X-ray, K = 10 k-centroid under the protocol: a lead of
  // 0.0001 +- 0.0014, queries 0.9573 against registration's 0.9546).
  Scores one = registration;
  one[0] += 0.02;  // a mean lead of 0.002, as above
  loo.final_dice["fused"] = one;
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::fused);
  EXPECT_NE(loo.why.find("fused led registration by 0.002"), std::string::npos) << loo.why;
  EXPECT_NE(loo.why.find("kept"), std::string::npos) << loo.why;
  // A lower mean than registration's leaves registration.
  one[0] -= 0.04;
  loo.final_dice["fused"] = one;
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::registration);
}

TEST(SelfConfigChoice, AModeThatLedRegistrationWithinTheNoiseGivesWayToRegistrationNotToTheFusedMaps) {
  // Five chest X-ray supports (K = 5, random seed 3 under the protocol; measured): the ranked mode led
  // registration by 0.010 +- 0.024; the fused maps' coarse masks scored 0.928 (clearly above their final
  // masks' 0.923) against registration's 0.922, yet on the queries they gave 0.9501, registration 0.9521.
  LeaveOneOut loo = scores({0.951, 0.947, 0.828, 0.947, 0.904}, {0.961, 0.955, 0.828, 0.957, 0.908},
                           {0.953, 0.912, 0.862, 0.954, 0.897}, {0.954, 0.949, 0.855, 0.957, 0.902},
                           {0.965, 0.951, 0.932, 0.921, 0.889}, {0.965, 0.958, 0.852, 0.957, 0.906},
                           {0.958, 0.955, 0.838, 0.960, 0.902});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::registration);
  EXPECT_FALSE(loo.keep_coarse);
  EXPECT_NE(loo.why.find("ranked led registration by 0.010"), std::string::npos) << loo.why;
  EXPECT_NEAR(loo.compared.at("fused"), 0.9276, 1e-9);  // the coarse masks' mean
}

TEST(SelfConfigChoice, FusedMapsWithinTheNoiseOfRegistrationGiveWayOnlyToARankedModeThatClearlyBeatsRegistration) {
  // BUSI lesions cropped to fill the image (scripts/proxy_sets.py crops, K = 5; measured): the fused maps led
  // registration by 0.030 +- 0.035 and the ranked mode by 0.107 +- 0.136, the ranked mode trailing
  // registration; the queries: fused 0.793, registration 0.755, ranked 0.702.
  LeaveOneOut loo = scores({0.848, 0.864, 0.816, 0.820, 0.707}, {0.852, 0.898, 0.812, 0.822, 0.723},
                           {0.582, 0.829, 0.654, 0.861, 0.633}, {0.654, 0.844, 0.740, 0.879, 0.622},
                           {0.941, 0.952, 0.169, 0.928, 0.728}, {0.724, 0.857, 0.835, 0.900, 0.811},
                           {0.851, 0.839, 0.797, 0.915, 0.853});
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::fused);
  EXPECT_FALSE(loo.keep_coarse);
  EXPECT_NE(loo.why.find("fused led registration by 0.030"), std::string::npos) << loo.why;
  EXPECT_EQ(loo.why.find("fused led ranked"), std::string::npos) << loo.why;
  // A ranked mode that clearly beats registration (+0.1 on every support) takes over from fused maps that lead it
  // within the noise, as it would from feature propagation, even where they stand within the noise of
  // registration (their lead of 0.12 is one support's).
  const Scores reg = {0.3, 0.8, 0.8, 0.8, 0.8};
  const Scores feat = {0.3, 0.7, 0.7, 0.7, 0.7}, fused = {0.9, 0.8, 0.8, 0.8, 0.8};
  loo = scores(reg, reg, feat, feat, {0.4, 0.9, 0.9, 0.9, 0.9}, fused, fused);
  choose_from_scores(loo);
  EXPECT_EQ(loo.chosen, Propagation::ranked);
  EXPECT_NE(loo.why.find("fused led registration by 0.120"), std::string::npos) << loo.why;
  EXPECT_NE(loo.why.find("fused led ranked by 0.020"), std::string::npos) << loo.why;
}
