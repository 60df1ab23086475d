// The ranked mode's view of SAM's embedding per candidate: the mapping of a work-frame mask onto the embedding's
// grid (known answers on a constructed embedding), and the unsupervised projection the ranker sees.
#include <gtest/gtest.h>

#include "refine/candidate_embedding.h"
#include "refine/ranker.h"
#include "sam/transforms.h"

using namespace sammpa;

namespace {

// A 2-channel embedding of a square image on a 64 x 64 grid: channel 0 is 1 on grid rows 10-19 and columns
// 20-29 and 0 elsewhere; channel 1 is the column index.
sam::ImageEmbedding known_embedding() {
  sam::ImageEmbedding e;
  e.frame = sam::make_frame(512, 512, 1024, 256);
  e.features = sam::Tensor({1, 2, 64, 64});
  float* d = e.features.data();
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) {
      d[y * 64 + x] = (y >= 10 && y < 20 && x >= 20 && x < 30) ? 1.f : 0.f;
      d[64 * 64 + y * 64 + x] = static_cast<float>(x);
    }
  return e;
}

MaskCandidate square(cv::Rect r, cv::Size work) {
  MaskCandidate c;
  c.mask = cv::Mat::zeros(work, CV_8UC1);
  c.mask(r).setTo(255);
  return c;
}

}  // namespace

TEST(CandidateEmbedding, AMaskOverGridCellsPoolsThoseCells) {
  const sam::ImageEmbedding e = known_embedding();
  const cv::Size work = work_size(e.frame);
  ASSERT_EQ(work, cv::Size(256, 256));
  // Work-frame pixels 80-119 x 40-79 are grid cells 20-29 x 10-19 (4 low-resolution pixels per cell).
  const cv::Mat p = candidate_embeddings({square({80, 40, 40, 40}, work), square({0, 0, 8, 8}, work)}, e);
  ASSERT_EQ(p.size(), cv::Size(4, 2));
  EXPECT_NEAR(p.at<float>(0, 0), 1.f, 1e-5);   // inside: channel 0 is 1 everywhere
  EXPECT_NEAR(p.at<float>(0, 1), 24.5f, 1e-4);  // inside: mean column index
  EXPECT_NEAR(p.at<float>(0, 2), 1.f, 1e-5);   // inside minus ring: the ring holds no channel 0
  EXPECT_NEAR(p.at<float>(0, 3), 0.f, 1e-4);   // the ring is symmetric about the square
  // A corner square far from the block: channel 0 is 0 inside and around; channel 1 inside is 0.5 (cells 0-1),
  // its ring (cells 2-4 to the right, and below) lies further right.
  EXPECT_NEAR(p.at<float>(1, 0), 0.f, 1e-6);
  EXPECT_NEAR(p.at<float>(1, 1), 0.5f, 1e-5);
  EXPECT_LT(p.at<float>(1, 3), 0.f);
}

TEST(CandidateEmbedding, PartlyCoveredCellsCountByCoverage) {
  const sam::ImageEmbedding e = known_embedding();
  // Two pixels wide on the block's left edge: half of cell column 20 (inside the block) and nothing else.
  const cv::Mat p = candidate_embeddings({square({80, 40, 2, 40}, work_size(e.frame))}, e);
  EXPECT_NEAR(p.at<float>(0, 0), 1.f, 1e-5);
  EXPECT_NEAR(p.at<float>(0, 1), 20.f, 1e-4);
}

TEST(EmbeddingProjection, FindsTheDirectionOfVariationAndExtendsTheFeatures) {
  // Rows vary along (1, 1, 0, 0) only, plus a tiny spread along (0, 0, 1, 0).
  cv::Mat rows(6, 4, CV_32F, cv::Scalar(0));
  for (int i = 0; i < 6; ++i) {
    rows.at<float>(i, 0) = rows.at<float>(i, 1) = static_cast<float>(i);
    rows.at<float>(i, 2) = 0.01f * static_cast<float>(i % 2);
  }
  const EmbeddingProjection p = EmbeddingProjection::fit({rows.rowRange(0, 3), rows.rowRange(3, 6)}, 2);
  ASSERT_EQ(p.components(), 2);
  std::vector<std::vector<double>> f(6, std::vector<double>{7.0});
  p.append(rows, f);
  ASSERT_EQ(f[0].size(), 3u);
  EXPECT_EQ(f[0][0], 7.0);
  // Along the first direction, neighbouring rows are sqrt(2) apart (the direction's sign is arbitrary).
  EXPECT_NEAR(std::abs(f[1][1] - f[0][1]), std::sqrt(2.0), 1e-4);
  EXPECT_NEAR(f[0][1] + f[5][1], 0.0, 1e-4);  // centred on the rows' mean
  EXPECT_EQ(ranker_feature_names(f[0].size() + candidate_feature_names().size() - 1).back(), "emb_pc2");
}

TEST(EmbeddingProjection, NoComponentsOrTooFewRowsAddNothing) {
  const cv::Mat rows = cv::Mat::eye(3, 4, CV_32F);
  std::vector<std::vector<double>> f(3, std::vector<double>{1.0});
  EmbeddingProjection::fit({rows}, 0).append(rows, f);
  EXPECT_EQ(f[0].size(), 1u);
  EXPECT_EQ(EmbeddingProjection::fit({rows}, 10).components(), 2);  // at most rows - 1 directions
  EXPECT_EQ(EmbeddingProjection::fit({}, 4).components(), 0);
}

TEST(CandidateEmbedding, NoCandidatesGiveNoRows) {
  const cv::Mat p = candidate_embeddings({}, known_embedding());
  EXPECT_EQ(p.rows, 0);
  EXPECT_EQ(p.cols, 4);
}
