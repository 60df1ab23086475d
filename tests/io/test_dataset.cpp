#include <fstream>
#include <map>

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

// The original BUSI as downloaded: class folders, "benign (2).png" beside "benign (2)_mask.png" and, for a second
// lesion, "benign (2)_mask_1.png". No images/ folder: the images and their masks are found side by side.
TEST(Dataset, ImagesWithTheirMasksBesideThemAsTheOriginalBusiShipsThem) {
  test::TempDir dir;
  cv::Mat image(8, 8, CV_8UC1, cv::Scalar(90)), top = cv::Mat::zeros(8, 8, CV_8UC1), bottom = top.clone();
  top.rowRange(0, 3).setTo(255);
  bottom.rowRange(5, 8).setTo(255);
  write_png(dir / "benign/benign (1).png", image);
  write_png(dir / "benign/benign (1)_mask.png", top);
  write_png(dir / "benign/benign (2).png", image);
  write_png(dir / "benign/benign (2)_mask.png", top);
  write_png(dir / "benign/benign (2)_mask_1.png", bottom);
  write_png(dir / "normal/normal (1).png", image);
  write_png(dir / "normal/normal (1)_mask.png", cv::Mat::zeros(8, 8, CV_8UC1));
  write_png(dir / "unlabelled.png", image);
  write_png(dir / ".thumbnails/benign (1).png", image);  // hidden folders are not the data
  const Dataset ds = scan_dataset(dir.path());
  ASSERT_EQ(ds.size(), 4u);
  EXPECT_EQ(ds.samples[0].name, "benign (1)");
  EXPECT_EQ(ds.at("benign (1)").mask->filename(), "benign (1)_mask.png");
  EXPECT_TRUE(ds.at("benign (1)").more_masks.empty());
  ASSERT_EQ(ds.at("benign (2)").more_masks.size(), 1u);
  EXPECT_EQ(ds.at("benign (2)").more_masks[0].filename(), "benign (2)_mask_1.png");
  EXPECT_EQ(ds.at("normal (1)").image, dir / "normal/normal (1).png");
  EXPECT_FALSE(ds.at("unlabelled").mask.has_value());
  // The truth is the union of the objects' files.
  EXPECT_EQ(cv::countNonZero(read_truth(ds.at("benign (1)"))), 24);
  EXPECT_EQ(cv::countNonZero(read_truth(ds.at("benign (2)"))), 48);
  EXPECT_EQ(cv::countNonZero(read_truth(ds.at("normal (1)"))), 0);
  EXPECT_THROW(read_truth(ds.at("unlabelled")), InputError);
  // A mask whose image is nowhere is an error naming the file, not an image.
  write_png(dir / "normal/normal (9)_mask.png", top);
  const std::string orphan = test::error_of([&] { scan_dataset(dir.path()); });
  EXPECT_NE(orphan.find("normal (9)_mask.png"), std::string::npos) << orphan;
  EXPECT_NE(orphan.find("no matching image"), std::string::npos) << orphan;
  std::filesystem::remove(dir / "normal/normal (9)_mask.png");
  // One name in two folders is ambiguous.
  write_png(dir / "normal/benign (1).png", image);
  EXPECT_THROW(scan_dataset(dir.path()), InputError);
}

// Kaggle's chest X-ray layout: the images in one folder, their NAME_mask files in another.
TEST(Dataset, MasksInAFolderOfTheirOwnFindTheirImages) {
  test::TempDir dir;
  cv::Mat image(8, 8, CV_8UC1, cv::Scalar(90)), top = cv::Mat::zeros(8, 8, CV_8UC1);
  top.rowRange(0, 3).setTo(255);
  write_png(dir / "CXR_png/CHNCXR_0001_0.png", image);
  write_png(dir / "CXR_png/CHNCXR_0002_0.png", image);
  write_png(dir / "masks/CHNCXR_0001_0_mask.png", top);
  const Dataset ds = scan_dataset(dir.path());
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds.at("CHNCXR_0001_0").mask, dir / "masks/CHNCXR_0001_0_mask.png");
  EXPECT_FALSE(ds.at("CHNCXR_0002_0").mask.has_value());
  // Masks named as their images, in a folder not called masks/: the clash is named with the way out.
  write_png(dir / "labels/CHNCXR_0002_0.png", top);
  const std::string clash = test::error_of([&] { scan_dataset(dir.path()); });
  EXPECT_NE(clash.find("masks/ beside images/"), std::string::npos) << clash;
}

// images/ and masks/: numbered masks are further objects of one image; only numbered files also make a mask.
TEST(Dataset, NumberedMasksAreFurtherObjectsOfOneImage) {
  test::TempDir dir;
  cv::Mat image(8, 8, CV_8UC1, cv::Scalar(90)), top = cv::Mat::zeros(8, 8, CV_8UC1), bottom = top.clone();
  top.rowRange(0, 3).setTo(255);
  bottom.rowRange(5, 8).setTo(255);
  for (const char* n : {"CHNCXR_0001_0", "b", "c"}) write_png(dir / "images" / (std::string(n) + ".png"), image);
  write_png(dir / "masks/CHNCXR_0001_0_mask.png", top);  // a name ending in _0 is still the image's own
  write_png(dir / "masks/b_mask_1.png", top);
  write_png(dir / "masks/b_mask_2.png", bottom);
  write_png(dir / "masks/c.png", top);
  const Dataset ds = scan_dataset(dir.path());
  EXPECT_TRUE(ds.at("CHNCXR_0001_0").more_masks.empty());
  EXPECT_EQ(ds.at("b").mask->filename(), "b_mask_1.png");
  EXPECT_EQ(cv::countNonZero(read_truth(ds.at("b"))), 48);
  EXPECT_EQ(cv::countNonZero(read_truth(ds.at("c"))), 24);
  bool numbered = false;
  EXPECT_EQ(mask_image_name("b_gt_12", [](const std::string& n) { return n == "b"; }, &numbered), "b");
  EXPECT_TRUE(numbered);
  EXPECT_EQ(mask_image_name("b_12", [](const std::string& n) { return n == "b"; }), "");  // a number alone is not
}

// The real BUSI under the names and folders of its original download (manifest.csv keeps them): every image
// finds its mask, in its class folder.
TEST(Dataset, RealBusiUnderItsOriginalNamesAndFolders) {
  const auto busi = test::data_root() / "busi";
  std::ifstream manifest(busi / "manifest.csv");
  ASSERT_TRUE(manifest) << busi / "manifest.csv";
  test::TempDir dir;
  std::string line;
  std::getline(manifest, line);  // name,cls,original_image,...
  size_t rows = 0;
  while (std::getline(manifest, line)) {
    const size_t a = line.find(','), b = line.find(',', a + 1), c = line.find(',', b + 1);
    const std::string name = line.substr(0, a), original = line.substr(b + 1, c - b - 1);  // "benign/benign (1).png"
    const auto image = dir / original;
    std::filesystem::create_directories(image.parent_path());
    std::filesystem::create_symlink(busi / "images" / (name + ".png"), image);
    std::filesystem::create_symlink(busi / "masks" / (name + ".png"),
                                    image.parent_path() / (image.stem().string() + "_mask.png"));
    ++rows;
  }
  ASSERT_EQ(rows, 624u);
  const Dataset ds = scan_dataset(dir.path());
  ASSERT_EQ(ds.size(), 624u);
  std::map<std::string, int> groups;
  for (const auto& s : ds.samples) {
    EXPECT_TRUE(s.mask.has_value()) << s.name;
    ++groups[s.image.parent_path().filename().string()];
  }
  EXPECT_EQ(groups, (std::map<std::string, int>{{"benign", 348}, {"malignant", 171}, {"normal", 105}}));
  EXPECT_EQ(ds.at("benign (7)").image, dir / "benign/benign (7).png");
  EXPECT_EQ(cv::countNonZero(read_truth(ds.at("benign (7)"))),
            cv::countNonZero(read_mask(busi / "masks/benign_007.png")));
}
