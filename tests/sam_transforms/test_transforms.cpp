// SAM pre/post-processing against the official segment-anything code (fixtures made by make_fixtures.py).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "npy.h"
#include "sam/transforms.h"
#include "test_support.h"

using namespace sammpa;
using namespace sammpa::sam;

namespace {
cv::Mat to_mat(const test::Npy& a) {
  cv::Mat m(static_cast<int>(a.shape[0]), static_cast<int>(a.shape[1]), CV_8UC3);
  for (int64_t i = 0; i < a.numel(); ++i) m.data[i] = static_cast<uint8_t>(a.data[i]);
  return m;
}
const char* kCases[] = {"busi", "cxr", "large", "tall"};
std::string fx(const std::string& name) { return std::string(FIXTURES_DIR) + "/" + name + ".npy"; }
}  // namespace

TEST(SamTransforms, ResizeMatchesPillowExactly) {
  for (const char* c : kCases) {
    cv::Mat img = to_mat(test::read_npy(fx(std::string(c) + "_image")));
    test::Npy want = test::read_npy(fx(std::string(c) + "_resized"));
    ImageFrame f = make_frame(img.rows, img.cols);
    ASSERT_EQ(f.input_h, want.shape[0]) << c;
    ASSERT_EQ(f.input_w, want.shape[1]) << c;
    cv::Mat got = resize_pil_bilinear(img, f.input_w, f.input_h);
    int64_t diffs = 0;
    for (int64_t i = 0; i < want.numel(); ++i) diffs += got.data[i] != static_cast<uint8_t>(want.data[i]);
    EXPECT_EQ(diffs, 0) << c;
  }
}

TEST(SamTransforms, PreprocessNormalisesAndPads) {
  cv::Mat img = to_mat(test::read_npy(fx("busi_image")));
  ImageFrame f = make_frame(img.rows, img.cols);
  Tensor t = preprocess_image(img, f);
  ASSERT_EQ(t.shape(), (Shape{1, 3, 1024, 1024}));
  test::Npy resized = test::read_npy(fx("busi_resized"));
  // pixel (y=5, x=7), channel 1: (v - 116.28) / 57.12; padding is exactly 0.
  float v = resized.data[(5 * f.input_w + 7) * 3 + 1];
  EXPECT_NEAR(t.data()[1 * 1024 * 1024 + 5 * 1024 + 7], (v - 116.28f) / 57.12f, 1e-6);
  EXPECT_EQ(t.data()[1023 * 1024 + 1023], 0.f);
  EXPECT_LT(f.input_h, 1024);
  EXPECT_EQ(t.data()[(f.input_h) * 1024 + 3], 0.f);
}

TEST(SamTransforms, CoordinatesMatchReference) {
  for (const char* c : kCases) {
    test::Npy img = test::read_npy(fx(std::string(c) + "_image"));
    test::Npy want = test::read_npy(fx(std::string(c) + "_coords"));
    ImageFrame f = make_frame(static_cast<int>(img.shape[0]), static_cast<int>(img.shape[1]));
    float pts[2][2] = {{10.5f, 20.25f}, {float(img.shape[1] - 1), float(img.shape[0] - 1)}};
    for (int i = 0; i < 2; ++i) {
      auto p = to_input_coords(pts[i][0], pts[i][1], f);
      EXPECT_FLOAT_EQ(p[0], want.data[2 * i]) << c;
      EXPECT_FLOAT_EQ(p[1], want.data[2 * i + 1]) << c;
    }
  }
}

TEST(SamTransforms, MaskUpscalingMatchesReference) {
  for (const char* c : kCases) {
    test::Npy img = test::read_npy(fx(std::string(c) + "_image"));
    test::Npy low = test::read_npy(fx(std::string(c) + "_lowres"));
    test::Npy want = test::read_npy(fx(std::string(c) + "_upscaled"));
    ImageFrame f = make_frame(static_cast<int>(img.shape[0]), static_cast<int>(img.shape[1]));
    Tensor got = upscale_mask_logits(Tensor::view(low.data.data(), low.shape), f);
    ASSERT_EQ(got.shape(), Shape(want.shape.begin(), want.shape.end())) << c;
    float max_err = 0;
    int64_t sign_flips = 0;
    for (int64_t i = 0; i < want.numel(); ++i) {
      max_err = std::max(max_err, std::abs(got.data()[i] - want.data[i]));
      sign_flips += (got.data()[i] > 0) != (want.data[i] > 0);
    }
    std::printf("[ %s ] upscaled logits max abs error %.2e, %lld sign flips\n", c, max_err,
                static_cast<long long>(sign_flips));
    EXPECT_LT(max_err, 1e-5) << c;
    EXPECT_EQ(sign_flips, 0) << c;
  }
}

// The separable resize (along x once per source row, then along y) must give exactly what computing each
// pixel from its four neighbours gives, h0 (w0 a + w1 b) + h1 (w0 c + w1 d), with PyTorch's taps: the same
// operations in the same order. Upscaling, downscaling, a partial block, a single row, planes large enough to
// run in parallel and small ones that do not.
TEST(SamTransforms, SeparableResizeEqualsThePerPixelFormulaBitForBit) {
  struct Case {
    int src_h, src_w, out_h, out_w, rows, cols;
  };
  const Case cases[] = {{256, 256, 1024, 1024, 1024, 870}, {1024, 870, 462, 393, 462, 393},
                        {256, 256, 1024, 1024, 700, 1024}, {64, 64, 256, 256, 256, 200},
                        {300, 200, 100, 50, 100, 50},      {5, 7, 1, 13, 1, 13}};
  auto taps = [](int in, int out, int count, std::vector<int>& i0, std::vector<int>& i1, std::vector<float>& w0,
                 std::vector<float>& w1) {
    const double scale = static_cast<float>(in) / static_cast<float>(out);
    for (int o = 0; o < count; ++o) {
      const double s = std::max(scale * (o + 0.5) - 0.5, 0.0);
      const int i = std::min(static_cast<int>(s), in - 1);
      const double lambda = std::clamp(s - i, 0.0, 1.0);
      i0.push_back(i), i1.push_back(i < in - 1 ? i + 1 : i);
      w1.push_back(static_cast<float>(lambda)), w0.push_back(static_cast<float>(1.0 - lambda));
    }
  };
  uint64_t state = 12345;
  for (const Case& c : cases) {
    std::vector<float> src(static_cast<size_t>(c.src_h) * c.src_w);
    for (float& v : src) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      v = static_cast<float>(static_cast<int64_t>(state >> 40) - (1 << 23)) / 65536.f;  // about -128 .. 128
    }
    std::vector<float> got(static_cast<size_t>(c.rows) * c.cols);
    resize_plane_bilinear(src.data(), c.src_h, c.src_w, got.data(), c.out_h, c.out_w, c.rows, c.cols);
    std::vector<int> y0, y1, x0, x1;
    std::vector<float> h0, h1, w0, w1;
    taps(c.src_h, c.out_h, c.rows, y0, y1, h0, h1);
    taps(c.src_w, c.out_w, c.cols, x0, x1, w0, w1);
    int64_t diffs = 0;
    for (int y = 0; y < c.rows; ++y)
      for (int x = 0; x < c.cols; ++x) {
        const float* r0 = src.data() + static_cast<size_t>(y0[y]) * c.src_w;
        const float* r1 = src.data() + static_cast<size_t>(y1[y]) * c.src_w;
        const float want =
            h0[y] * (w0[x] * r0[x0[x]] + w1[x] * r0[x1[x]]) + h1[y] * (w0[x] * r1[x0[x]] + w1[x] * r1[x1[x]]);
        diffs += got[static_cast<size_t>(y) * c.cols + x] != want;
      }
    EXPECT_EQ(diffs, 0) << c.src_h << "x" << c.src_w << " -> " << c.rows << "x" << c.cols;
  }
}
