// Step 1 on SAM's embedding (`--features sam`): the pooling over the image's own grid cells, the per-column
// standardisation, and on real images that the pooled embedding tells what an image shows.
#include "pipeline/select_features.h"

#include <algorithm>
#include <cmath>

#include "real_subset.h"
#include "test_support.h"

using namespace sammpa;
namespace fs = std::filesystem;

TEST(SelectFeatures, PoolingCoversTheImageAndNotThePadding) {
  // An image half as high as the encoder's square: it fills the top 32 of 64 grid rows.
  sam::ImageEmbedding e;
  e.frame = sam::make_frame(100, 200, 1024);
  ASSERT_EQ(e.frame.input_h, 512);
  e.features = sam::Tensor({1, 2, 64, 64});
  for (int64_t y = 0; y < 64; ++y)
    for (int64_t x = 0; x < 64; ++x) {
      const bool image = y < 32;
      e.features.data()[y * 64 + x] = image ? 3.f : 100.f;                            // channel 0: constant
      e.features.data()[64 * 64 + y * 64 + x] = image ? ((x % 2) ? 1.f : -1.f) : 100.f;  // channel 1: +-1
    }
  const cv::Mat f = pooled_embedding(e);
  ASSERT_EQ(f.cols, 4);
  EXPECT_FLOAT_EQ(f.at<float>(0, 0), 3.f);  // means
  EXPECT_FLOAT_EQ(f.at<float>(0, 1), 0.f);
  EXPECT_NEAR(f.at<float>(0, 2), 0.f, 1e-6);  // standard deviations
  EXPECT_FLOAT_EQ(f.at<float>(0, 3), 1.f);
}

TEST(SelectFeatures, ColumnsAreStandardisedAndRowsUnitLength) {
  // Column 0 in the thousands, column 1 in thousandths, column 2 constant: after standardising, both varying
  // columns weigh the same and the constant one not at all.
  cv::Mat x = (cv::Mat_<float>(4, 3) << 1000, 0.001f, 7, 3000, 0.003f, 7, 1000, 0.003f, 7, 3000, 0.001f, 7);
  standardise_features(x);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(cv::norm(x.row(i)), 1.0, 1e-6);
    EXPECT_NEAR(std::abs(x.at<float>(i, 0)), std::sqrt(0.5), 1e-5);
    EXPECT_NEAR(std::abs(x.at<float>(i, 1)), std::sqrt(0.5), 1e-5);
    EXPECT_EQ(x.at<float>(i, 2), 0.f);
  }
  EXPECT_LT(x.at<float>(0, 0), 0.f);
  EXPECT_GT(x.at<float>(1, 0), 0.f);
}

TEST(SelectFeatures, GivenFeaturesMustMatchTheImages) {
  Dataset ds;
  ds.samples.resize(3);
  for (size_t i = 0; i < 3; ++i) ds.samples[i].name = "im" + std::to_string(i);
  SelectOptions o;
  o.k = 2;
  EXPECT_THROW(select_examples(ds, o, cv::Mat::zeros(2, 4, CV_32F)), std::logic_error);
  o.k = 4;  // the user's error comes first
  EXPECT_THROW(select_examples(ds, o, cv::Mat::zeros(3, 4, CV_32F)), InputError);
}

// Two modalities in one folder: the pooled embedding must put each in its own cluster, so K = 2 picks one chest
// X-ray and one ultrasound (a broken pooling, e.g. of the padding, gives arbitrary clusters). The embeddings land
// in the cache the later steps read.
TEST(SelectFeaturesReal, SamFeaturesTellChestXraysFromUltrasound) {
  test::TempDir dir;
  test::link_spread(test::with_prefix(scan_dataset(test::data_root() / "cxr"), {}), 5, dir / "data");
  test::link_spread(test::with_prefix(scan_dataset(test::data_root() / "busi"), {"benign", "malignant"}), 5,
                    dir / "data");
  const Dataset ds = scan_dataset(dir / "data");
  ASSERT_EQ(ds.size(), 10u);
  SelectOptions o;
  o.k = 2;
  o.features = FeatureKind::Sam;
  SegmentOptions model;
  model.embeddings = dir / "emb";
  const Selection s = select_with_features(ds, o, model);
  ASSERT_EQ(s.support.size(), 2u);
  const bool first_cxr = s.support[0].rfind("CHNCXR", 0) == 0, second_cxr = s.support[1].rfind("CHNCXR", 0) == 0;
  EXPECT_NE(first_cxr, second_cxr) << s.support[0] << " " << s.support[1];
  EXPECT_EQ(s.cluster_sizes, (std::vector<size_t>{5, 5}));
  size_t cached = 0;
  for (const auto& f : fs::directory_iterator(dir / "emb")) cached += f.path().extension() == ".samemb";
  EXPECT_EQ(cached, 10u);
}
