// Step 4's refinement rules on constructed candidates: choice, clean-up, fallback to the coarse object.
#include "refine/refine.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

using namespace sammpa;

namespace {
cv::Mat rect_mask(cv::Rect r, cv::Size size = {100, 100}) {
  cv::Mat m = cv::Mat::zeros(size, CV_8UC1);
  cv::rectangle(m, r, 255, cv::FILLED);
  return m;
}
}  // namespace

TEST(Refine, ChoiceByIouAgreementOrBoth) {
  const cv::Mat object = rect_mask({20, 20, 40, 40});
  std::vector<Candidate> c = {{rect_mask({20, 20, 40, 40}), 0.80f, "match", 0},
                              {rect_mask({0, 0, 100, 100}), 0.99f, "whole", 0},
                              {rect_mask({25, 25, 30, 30}), 0.95f, "inner", 0}};
  score_candidates(c, object);
  EXPECT_DOUBLE_EQ(c[0].agreement, 1.0);
  EXPECT_EQ(choose_candidate(c, CandidateChoice::iou), 1);
  EXPECT_EQ(choose_candidate(c, CandidateChoice::agreement), 0);
  // product: 0.80 * 1.0 = 0.80 vs 0.99 * 0.276 vs 0.95 * (2*900/2500 = 0.72) = 0.684
  EXPECT_EQ(choose_candidate(c, CandidateChoice::product), 0);
  EXPECT_EQ(choose_candidate({}, CandidateChoice::product), -1);
}

TEST(Refine, ImplausibleAnswersKeepTheCoarseObject) {
  const cv::Mat object = rect_mask({20, 20, 40, 40});
  RefineOptions o;
  Candidate good{rect_mask({22, 22, 40, 40}), 0.9f, "good", 0};
  Candidate huge{rect_mask({0, 0, 100, 100}), 0.99f, "huge", 0};
  Candidate tiny{rect_mask({30, 30, 8, 8}), 0.99f, "tiny", 0};
  Candidate unsure{rect_mask({20, 20, 40, 40}), 0.2f, "unsure", 0};
  Candidate empty{cv::Mat::zeros(100, 100, CV_8UC1), 0.9f, "empty", 0};
  std::vector<Candidate> all = {good, huge, tiny, unsure, empty};
  score_candidates(all, object);
  EXPECT_EQ(implausible(all[0], object, o), "");
  EXPECT_EQ(implausible(all[1], object, o), "agreement");
  EXPECT_EQ(implausible(all[2], object, o), "agreement");
  EXPECT_EQ(implausible(all[3], object, o), "iou");
  EXPECT_EQ(implausible(all[4], object, o), "empty");
  o.min_agreement = 0.0;
  EXPECT_EQ(implausible(all[1], object, o), "area");  // 10000 / 1600 > 2
}

TEST(Refine, CleanFillsHolesAndDropsStrayComponents) {
  const cv::Mat object = rect_mask({20, 20, 40, 40});
  cv::Mat m = rect_mask({18, 18, 44, 44});
  cv::rectangle(m, cv::Rect(35, 35, 6, 6), 0, cv::FILLED);  // a hole
  cv::rectangle(m, cv::Rect(80, 80, 10, 10), 255, cv::FILLED);  // a stray component away from the object
  RefineOptions o;
  cv::Mat c = clean_mask(m, object, o);
  EXPECT_EQ(cv::countNonZero(c), 44 * 44);
  EXPECT_EQ(c.at<uchar>(37, 37), 255);
  EXPECT_EQ(c.at<uchar>(85, 85), 0);
  o.fill_holes = o.keep_touching = false;
  EXPECT_EQ(cv::countNonZero(clean_mask(m, object, o)), 44 * 44 - 36 + 100);
}

TEST(Refine, OptionNamesRoundTrip) {
  for (auto c : {CandidateChoice::iou, CandidateChoice::agreement, CandidateChoice::product})
    EXPECT_EQ(parse_candidate_choice(candidate_choice_name(c)), c);
  EXPECT_THROW(parse_candidate_choice("best"), std::exception);
  EXPECT_EQ(parse_combine("average"), Combine::average);
}
