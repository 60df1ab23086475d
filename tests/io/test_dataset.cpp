#include <fstream>

#include "common/error.h"
#include "io/dataset.h"
#include "io/image_io.h"
#include "io/phantom.h"
#include "test_support.h"

using namespace sammpa;

TEST(Dataset, ScansRealFoldersWithMasks) {
  auto busi = scan_dataset(test::data_root() / "busi");
  EXPECT_EQ(busi.size(), 624u);
  auto cxr = scan_dataset(test::data_root() / "cxr");
  EXPECT_EQ(cxr.size(), 400u);
  for (const auto& s : cxr.samples) EXPECT_TRUE(s.mask.has_value()) << s.name;
  EXPECT_TRUE(std::is_sorted(cxr.samples.begin(), cxr.samples.end(),
                             [](const Sample& a, const Sample& b) { return a.name < b.name; }));
  EXPECT_EQ(cxr.at("CHNCXR_0001_0").name, "CHNCXR_0001_0");
  EXPECT_THROW(cxr.at("nope"), InputError);
}

TEST(Dataset, EmptyOrMissingFoldersAreErrors) {
  test::TempDir dir;
  EXPECT_THROW(scan_dataset(dir / "absent"), InputError);
  EXPECT_THROW(scan_dataset(dir.path()), InputError);  // no images/
  std::filesystem::create_directories(dir / "images");
  try {
    scan_dataset(dir.path());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no images found"), std::string::npos);
  }
}

TEST(Dataset, OrphanMaskAndDuplicateNamesAreErrors) {
  test::TempDir dir;
  cv::Mat g(8, 8, CV_8UC1, cv::Scalar(1));
  write_png(dir / "images/a.png", g);
  write_png(dir / "masks/b.png", g);
  EXPECT_THROW(scan_dataset(dir.path()), InputError);
  std::filesystem::remove(dir / "masks/b.png");
  write_png(dir / "images/a.tif", g);  // written as PNG bytes, but the name clash is what matters
  EXPECT_THROW(scan_dataset(dir.path()), InputError);
}

// Masks named as public data sets name them: ISIC's NAME_segmentation.png, the original BUSI's NAME_mask.png.
TEST(Dataset, MasksNamedWithACommonSuffixFindTheirImage) {
  test::TempDir dir;
  cv::Mat g(8, 8, CV_8UC1, cv::Scalar(1));
  for (const char* n : {"ISIC_001", "ISIC_002", "case 1", "plain", "x_seg"})
    write_png(dir / "images" / (std::string(n) + ".png"), g);
  write_png(dir / "masks/ISIC_001_segmentation.png", g);
  write_png(dir / "masks/case 1_mask.png", g);
  write_png(dir / "masks/plain.png", g);
  write_png(dir / "masks/x_seg.png", g);  // the image's own name wins over a suffix
  const Dataset ds = scan_dataset(dir.path());
  EXPECT_EQ(ds.at("ISIC_001").mask->filename(), "ISIC_001_segmentation.png");
  EXPECT_FALSE(ds.at("ISIC_002").mask.has_value());
  EXPECT_EQ(ds.at("case 1").mask->filename(), "case 1_mask.png");
  EXPECT_EQ(ds.at("plain").mask->filename(), "plain.png");
  EXPECT_EQ(ds.at("x_seg").mask->filename(), "x_seg.png");
  EXPECT_FALSE(ds.index_of("x").has_value());
  // Two masks for one image, and a suffix that matches no image, are errors naming the file.
  write_png(dir / "masks/plain_gt.png", g);
  try {
    scan_dataset(dir.path());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has two masks"), std::string::npos) << e.what();
  }
  std::filesystem::remove(dir / "masks/plain_gt.png");
  write_png(dir / "masks/other_mask.png", g);
  try {
    scan_dataset(dir.path());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("other_mask.png"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("_segmentation"), std::string::npos) << e.what();
  }
}

TEST(Phantom, IsDeterministicAndHasMasks) {
  test::TempDir a, b;
  write_phantom_dataset(a.path(), {4, 64, 7});
  write_phantom_dataset(b.path(), {4, 64, 7});
  auto ds = scan_dataset(a.path());
  ASSERT_EQ(ds.size(), 4u);
  for (const auto& s : ds.samples) {
    auto ia = read_image(s.image), ib = read_image(b / ("images/" + s.name + ".png"));
    EXPECT_EQ(cv::norm(ia, ib, cv::NORM_INF), 0);
    auto m = read_mask(*s.mask, ia.size());
    double frac = cv::countNonZero(m) / double(m.total());
    EXPECT_GT(frac, 0.1);
    EXPECT_LT(frac, 0.5);
  }
}

#include "common/npy.h"

TEST(Npy, RoundTripsAndRejectsGarbage) {
  test::TempDir dir;
  std::vector<float> v = {1.5f, -2.f, 3.25f, 0.f, 7.f, 8.f};
  write_npy(dir / "a.npy", v.data(), {2, 3});
  auto a = read_npy(dir / "a.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data, v);
  write_npy(dir / "b.npy", v.data(), {6});
  EXPECT_EQ(read_npy(dir / "b.npy").shape, (std::vector<int64_t>{6}));
  std::ofstream(dir / "bad.npy") << "nope";
  EXPECT_THROW(read_npy(dir / "bad.npy"), InputError);
}
