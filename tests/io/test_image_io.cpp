#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "io/image_io.h"
#include "itkImage.h"
#include "itkImageFileWriter.h"
#include "test_support.h"

using namespace sammpa;

namespace {

// A 24 x 16 ITK image whose pixel (x, y) is value(x, y), written to `file` by ITK's writer for its extension.
template <typename T, typename F>
void write_itk_image(const std::filesystem::path& file, F value) {
  using Img = itk::Image<T, 2>;
  auto img = Img::New();
  typename Img::RegionType region;
  region.SetSize({24, 16});
  img->SetRegions(region);
  img->Allocate();
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 24; ++x) img->SetPixel({x, y}, static_cast<T>(value(x, y)));
  auto w = itk::ImageFileWriter<Img>::New();
  w->SetFileName(file.string());
  w->SetInput(img);
  w->Update();
}

}  // namespace

TEST(ImageIO, ReadsRealBusiImageAsGreyWithManifestSize) {
  auto img = read_image(test::data_root() / "busi/images/benign_001.png");
  EXPECT_EQ(img.type(), CV_8UC1);
  EXPECT_EQ(img.cols, 562);
  EXPECT_EQ(img.rows, 471);
  auto mask = read_mask(test::data_root() / "busi/masks/benign_001.png", img.size());
  EXPECT_EQ(cv::countNonZero(mask), 984);  // lesion_pixels in manifest.csv
}

TEST(ImageIO, SixteenBitAndRgbAreConvertedTo8Bit) {
  test::TempDir dir;
  cv::Mat g16(20, 30, CV_16UC1);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 30; ++x) g16.at<uint16_t>(y, x) = static_cast<uint16_t>(1000 + 100 * x);
  cv::imwrite((dir / "g16.png").string(), g16);
  auto g = read_image(dir / "g16.png");
  ASSERT_EQ(g.type(), CV_8UC1);
  EXPECT_EQ(g.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(g.at<uint8_t>(0, 29), 255);

  cv::Mat bgr(10, 12, CV_8UC3, cv::Scalar(10, 20, 30));  // OpenCV writes BGR: R=30
  cv::imwrite((dir / "c.png").string(), bgr);
  auto c = read_image(dir / "c.png");
  ASSERT_EQ(c.type(), CV_8UC3);
  EXPECT_EQ(c.at<cv::Vec3b>(0, 0)[0], 30);  // RGB order
  EXPECT_EQ(to_grey(c).type(), CV_8UC1);
}

TEST(ImageIO, ReadsNiftiMhaNrrdDicomAndTiffWrittenByItk) {
  test::TempDir dir;
  for (const char* name : {"a.nii.gz", "a.mha", "a.nrrd", "a.dcm", "a.tif"}) {
    // 16-bit signed, as CT/MR volumes are stored
    write_itk_image<int16_t>(dir / name, [](int x, int) { return -500 + 40 * x; });
    auto m = read_image(dir / name);
    ASSERT_EQ(m.size(), cv::Size(24, 16)) << name;
    EXPECT_EQ(m.at<uint8_t>(3, 0), 0) << name;     // min maps to 0
    EXPECT_EQ(m.at<uint8_t>(3, 23), 255) << name;  // max maps to 255
    EXPECT_EQ(read_image_size(dir / name), cv::Size(24, 16)) << name;
  }
}

// Computed radiography is often stored as MONOCHROME1: high values are dark. GDCM, under ITK's DICOM reader,
// inverts such pixels, so the X-ray reads the right way up, as a MONOCHROME2 copy of it does. The copy comes
// from gdcmconv (libgdcm-tools, which scripts/setup.sh installs); gdcmraw shows that it stored the values
// inverted, not just the tag changed.
TEST(ImageIO, DicomMonochrome1ReadsTheRightWayUp) {
  test::TempDir dir;
  write_itk_image<uint8_t>(dir / "m2.dcm", [](int x, int y) { return 10 * x + y; });
  const std::string m2 = (dir / "m2.dcm").string(), m1 = (dir / "m1.dcm").string(), raw = (dir / "m1.raw").string();
  ASSERT_EQ(std::system(("gdcmconv -P MONOCHROME1 '" + m2 + "' '" + m1 + "' >/dev/null 2>&1").c_str()), 0)
      << "gdcmconv (libgdcm-tools) is missing: bash scripts/setup.sh installs it";
  ASSERT_EQ(std::system(("gdcmraw -i '" + m1 + "' -o '" + raw + "' -t 7fe0,0010 >/dev/null 2>&1").c_str()), 0);
  std::ifstream in(raw, std::ios::binary);
  std::vector<char> stored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(stored.size(), 24u * 16u);
  EXPECT_EQ(static_cast<uint8_t>(stored[5]), 255 - 50);  // pixel (5, 0): 50 stored as 205
  const cv::Mat a = read_image(dir / "m2.dcm"), b = read_image(dir / "m1.dcm");
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0);
  EXPECT_LT(b.at<uint8_t>(0, 0), b.at<uint8_t>(0, 23));  // dark on the left, as written
}

TEST(ImageIO, BadFilesGiveErrorsNamingTheFile) {
  test::TempDir dir;
  std::ofstream(dir / "garbage.png") << "this is not a png";
  std::ofstream(dir / "empty.png");
  auto expect_error = [](const std::filesystem::path& p, const std::string& fragment) {
    try {
      read_image(p);
      FAIL() << "no error for " << p;
    } catch (const InputError& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
    }
  };
  expect_error(dir / "missing.png", "not found");
  expect_error(dir / "empty.png", "empty file");
  expect_error(dir / "garbage.png", "not a readable image");

  // A truncated PNG: the real header, half the data.
  std::ifstream in(test::data_root() / "cxr/images/CHNCXR_0001_0.png", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(bytes.size(), 1000u);
  std::ofstream(dir / "trunc.png", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_THROW(read_image(dir / "trunc.png"), InputError);
}

// Found by fuzz/fuzz_image.cpp: libpng aborted the whole process (SIGABRT) inside ITK's PNG reader, ITK's BMP
// reader wrote past its buffer (SIGSEGV), its TIFF reader read past a tag's value, its MetaImage reader hung or
// read past a file name or a file-name pattern.
// Each is read or refused with an error naming it; only the TIFF is a valid image (with one unknown tag).
TEST(ImageIO, FilesThatCrashedItkAreErrorsNotCrashes) {
  test::TempDir dir;
  std::vector<std::string> readable;
  int files = 0;
  const auto regressions = std::filesystem::path(SAMMPA_SOURCE_DIR) / "fuzz/regressions/image";
  for (const auto& f : std::filesystem::directory_iterator(regressions)) {
    ++files;
    try {
      if (read_image(f.path()).size() == read_image_size(f.path())) readable.push_back(f.path().filename().string());
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(f.path().string()), std::string::npos) << e.what();
    }
  }
  // A real chest X-ray with one byte of its header's checksum changed, and one with a damaged data chunk.
  std::ifstream in(test::data_root() / "cxr/images/CHNCXR_0001_0.png", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(bytes.size(), 1000u);
  std::string bad_crc = bytes, bad_data = bytes;
  bad_crc[29] = static_cast<char>(bad_crc[29] ^ 0x5a);  // IHDR's CRC: bytes 29-32
  const size_t idat = bad_data.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  bad_data[idat + 40] = static_cast<char>(bad_data[idat + 40] ^ 0x5a);
  std::ofstream(dir / "crc.png", std::ios::binary) << bad_crc;
  std::ofstream(dir / "data.png", std::ios::binary) << bad_data;
  EXPECT_THROW(read_image_size(dir / "crc.png"), InputError);
  EXPECT_THROW(read_image(dir / "crc.png"), InputError);
  EXPECT_THROW(read_image(dir / "data.png"), InputError);
  EXPECT_EQ(files, 7);
  EXPECT_EQ(readable, std::vector<std::string>{"tiff-ascii-tag-unterminated.tif"});
}

// BMP and TIFF are decoded by OpenCV (ITK's readers crash on malformed files): same rules as the ITK path.
TEST(ImageIO, BmpAndTiffGreyAndColourReadAsWritten) {
  test::TempDir dir;
  cv::Mat grey(7, 9, CV_8UC1), bgr(7, 9, CV_8UC3), bgra(7, 9, CV_8UC4);
  cv::randu(grey, 0, 256);
  cv::randu(bgr, 0, 256);
  cv::randu(bgra, 0, 256);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  for (const char* ext : {".bmp", ".tif"}) {
    ASSERT_TRUE(cv::imwrite((dir / (std::string("g") + ext)).string(), grey));
    ASSERT_TRUE(cv::imwrite((dir / (std::string("c") + ext)).string(), bgr));
    EXPECT_EQ(cv::norm(read_image(dir / (std::string("g") + ext)), grey, cv::NORM_INF), 0) << ext;
    EXPECT_EQ(cv::norm(read_image(dir / (std::string("c") + ext)), rgb, cv::NORM_INF), 0) << ext;
    EXPECT_EQ(read_image_size(dir / (std::string("c") + ext)), cv::Size(9, 7)) << ext;
  }
  ASSERT_TRUE(cv::imwrite((dir / "a.tif").string(), bgra));  // alpha dropped
  cv::Mat rgb_of_bgra;
  cv::cvtColor(bgra, rgb_of_bgra, cv::COLOR_BGRA2RGB);
  EXPECT_EQ(cv::norm(read_image(dir / "a.tif"), rgb_of_bgra, cv::NORM_INF), 0);
  // 16-bit: rescaled from [min, max] as the ITK path does.
  cv::Mat g16(4, 5, CV_16UC1);
  for (int i = 0; i < 20; ++i) g16.at<uint16_t>(i / 5, i % 5) = static_cast<uint16_t>(3000 + 1000 * i);
  ASSERT_TRUE(cv::imwrite((dir / "g16.tif").string(), g16));
  cv::Mat g8 = read_image(dir / "g16.tif");
  EXPECT_EQ(g8.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(g8.at<uint8_t>(3, 4), 255);
  EXPECT_EQ(g8.at<uint8_t>(1, 4), 121);  // (9 / 19) * 255 = 120.8
}

TEST(ImageIO, MaskOfWrongSizeIsRejected) {
  test::TempDir dir;
  write_png(dir / "m.png", cv::Mat(10, 10, CV_8UC1, cv::Scalar(255)));
  try {
    read_mask(dir / "m.png", cv::Size(12, 10));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("10x10 but its image is 12x10"), std::string::npos) << e.what();
  }
}

// Masks as other data sets ship them: JPEG (grey and colour), whose ringing leaves faint non-zero pixels around
// the object, and label maps whose labels are small numbers.
TEST(ImageIO, JpegMasksLoseTheirHaloAndLabelMapsKeepEveryLabel) {
  test::TempDir dir;
  cv::Mat disc = cv::Mat::zeros(200, 240, CV_8UC1);
  cv::circle(disc, {120, 100}, 40, cv::Scalar(255), cv::FILLED);
  const auto dice = [](const cv::Mat& a, const cv::Mat& b) {
    return 2.0 * cv::countNonZero(a & b) / (cv::countNonZero(a) + cv::countNonZero(b));
  };
  cv::imwrite((dir / "grey.jpg").string(), disc, {cv::IMWRITE_JPEG_QUALITY, 90});
  cv::Mat colour;
  cv::cvtColor(disc, colour, cv::COLOR_GRAY2BGR);
  cv::imwrite((dir / "colour.jpg").string(), colour, {cv::IMWRITE_JPEG_QUALITY, 75});
  for (const char* name : {"grey.jpg", "colour.jpg"}) {
    const cv::Mat raw = cv::imread((dir / name).string(), cv::IMREAD_GRAYSCALE);
    const cv::Mat with_halo = raw > 0;
    ASSERT_LT(dice(with_halo, disc), 0.98) << name << ": the JPEG left no halo, so this test checks nothing";
    EXPECT_GT(dice(read_mask(dir / name), disc), 0.995) << name;
  }
  // Labels 1 and 2 (two structures): both are the object.
  cv::Mat labels = cv::Mat::zeros(50, 60, CV_8UC1);
  labels(cv::Rect(5, 5, 10, 10)).setTo(1);
  labels(cv::Rect(30, 20, 20, 20)).setTo(2);
  write_png(dir / "labels.png", labels);
  EXPECT_EQ(cv::countNonZero(read_mask(dir / "labels.png")), 100 + 400);
}
