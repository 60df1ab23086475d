// SAM's prompt encoder and mask decoder against the official PyTorch modules (make_fixtures.py): random weights
// and the real MobileSAM weights, points / box / both / mask input, single and multimask output.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../sam_nn/nn_fixture.h"
#include "sam/checkpoint/checkpoint.h"
#include "sam/decoder/mask_decoder.h"

namespace sammpa::sam {
namespace {

namespace fs = std::filesystem;
using test::close_to;
using test::load_tensor;

// Tolerances (absolute) for a float32 reimplementation of float32 PyTorch; measured maxima in brackets.
constexpr float kEmbeddingTol = 1e-5f;   // sparse/dense prompt embeddings, dense positional encoding [9.5e-7]
constexpr float kLogitTol = 5e-4f;       // low-res mask logits, magnitudes up to ~30 [1.3e-4, MobileSAM]
constexpr float kIouTol = 1e-5f;         // predicted IoU [4.8e-7]
constexpr double kMinMaskIou = 0.99;     // logits > 0 vs the reference's

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(double(a.data()[i]) - b.data()[i]));
  return m;
}

double binary_iou(const Tensor& a, const Tensor& b) {
  int64_t inter = 0, uni = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const bool x = a.data()[i] > 0, y = b.data()[i] > 0;
    inter += x && y;
    uni += x || y;
  }
  return uni ? double(inter) / double(uni) : 1.0;
}

fs::path fixtures(const std::string& set) { return fs::path(SAMMPA_DECODER_FIXTURES) / set; }

Prompts load_prompts(const fs::path& dir) {
  Prompts p;
  if (fs::exists(dir / "points.npy")) {
    const Tensor pts = load_tensor(dir / "points.npy"), labels = load_tensor(dir / "labels.npy");
    for (int64_t i = 0; i < pts.dim(0); ++i) {
      p.points.push_back({pts.data()[2 * i], pts.data()[2 * i + 1]});
      p.labels.push_back(static_cast<int>(labels.data()[i]));
    }
  }
  if (fs::exists(dir / "box.npy")) {
    const Tensor b = load_tensor(dir / "box.npy");
    p.box = std::array<float, 4>{b.data()[0], b.data()[1], b.data()[2], b.data()[3]};
  }
  if (fs::exists(dir / "mask_input.npy")) p.mask_input = load_tensor(dir / "mask_input.npy");
  return p;
}

class DecoderVsOfficial : public ::testing::TestWithParam<std::string> {};

TEST_P(DecoderVsOfficial, EveryPromptCaseMatches) {
  const std::string set = GetParam();
  fs::path ckpt_file = fixtures(set) / "checkpoint.pt";
  if (set == "mobile") {
    const char* env = std::getenv("SAMMPA_MOBILE_SAM");
    ASSERT_TRUE(env && fs::exists(env)) << "SAMMPA_MOBILE_SAM (the real MobileSAM checkpoint) not set or missing";
    ASSERT_TRUE(fs::exists(fixtures(set))) << fixtures(set) << " missing: the fixture script did not write it";
    ckpt_file = env;
  }
  const SamPromptDecoder model(Checkpoint::open(ckpt_file));
  const Tensor embeddings = load_tensor(fixtures(set) / "image_embeddings.npy");
  EXPECT_TRUE(close_to(model.prompt_encoder().dense_pe(), load_tensor(fixtures(set) / "dense_pe.npy"), 0,
                       kEmbeddingTol));

  std::ifstream list(fixtures(set) / "cases.txt");
  std::string name;
  int cases = 0;
  while (std::getline(list, name)) {
    if (name.empty()) continue;
    ++cases;
    SCOPED_TRACE(set + "/" + name);
    const fs::path dir = fixtures(set) / name;
    const Prompts prompts = load_prompts(dir);
    const bool multimask = load_tensor(dir / "multimask.npy").data()[0] != 0;

    const PromptEncoder::Embeddings e = model.prompt_encoder().encode(prompts);
    const Tensor want_sparse = load_tensor(dir / "sparse.npy");
    if (want_sparse.numel() == 0)
      EXPECT_EQ(e.sparse.numel(), 0);
    else
      EXPECT_TRUE(close_to(e.sparse, want_sparse, 0, kEmbeddingTol));
    EXPECT_TRUE(close_to(e.dense, load_tensor(dir / "dense.npy"), 0, kEmbeddingTol));

    const DecoderOutput out = model.predict(embeddings, prompts, multimask);
    const Tensor want_logits = load_tensor(dir / "low_res_logits.npy"), want_iou = load_tensor(dir / "iou.npy");
    ASSERT_EQ(out.low_res_logits.shape(), want_logits.shape());
    ASSERT_EQ(static_cast<int64_t>(out.iou.size()), want_iou.numel());
    double iou_err = 0;
    for (size_t i = 0; i < out.iou.size(); ++i)
      iou_err = std::max(iou_err, double(std::abs(out.iou[i] - want_iou.data()[i])));
    const double logit_err = max_abs_diff(out.low_res_logits, want_logits);
    double worst_mask_iou = 1;
    const int64_t plane = want_logits.dim(2) * want_logits.dim(3);
    for (int64_t m = 0; m < want_logits.dim(1); ++m)
      worst_mask_iou = std::min(worst_mask_iou, binary_iou(Tensor::view(out.low_res_logits.data() + m * plane, {plane}),
                                                           Tensor::view(want_logits.data() + m * plane, {plane})));
    std::printf("%s/%s: max |err| sparse %.3g, dense %.3g, logits %.3g, iou %.3g; min mask IoU %.5f\n", set.c_str(),
                name.c_str(), want_sparse.numel() ? max_abs_diff(e.sparse, want_sparse) : 0.0,
                max_abs_diff(e.dense, load_tensor(dir / "dense.npy")), logit_err, iou_err, worst_mask_iou);
    EXPECT_LE(logit_err, kLogitTol);
    EXPECT_LE(iou_err, kIouTol);
    EXPECT_GE(worst_mask_iou, kMinMaskIou);
  }
  EXPECT_EQ(cases, 7);
}

INSTANTIATE_TEST_SUITE_P(Weights, DecoderVsOfficial, ::testing::Values("random", "mobile"));

TEST(PromptEncoderLabels, CornerLabelsInPointsEqualABox) {
  const PromptEncoder pe(Checkpoint::open(fixtures("random") / "checkpoint.pt"));
  Prompts as_box;
  as_box.box = std::array<float, 4>{100.f, 200.f, 400.f, 500.f};
  as_box.points = {{300.f, 300.f}};
  as_box.labels = {1};
  Prompts as_points;
  as_points.points = {{300.f, 300.f}, {100.f, 200.f}, {400.f, 500.f}};
  as_points.labels = {1, 2, 3};
  const Tensor a = pe.encode(as_box).sparse;  // point, then the two box corners
  const Tensor b = pe.encode(as_points).sparse;  // no box given: a padding point follows the points
  ASSERT_EQ(a.shape(), (Shape{1, 3, pe.embed_dim()}));
  ASSERT_EQ(b.shape(), (Shape{1, 4, pe.embed_dim()}));
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a.data()[i], b.data()[i]) << i;
}

TEST(PromptEncoderLabels, RejectsBadPrompts) {
  const PromptEncoder pe(Checkpoint::open(fixtures("random") / "checkpoint.pt"));
  Prompts p;
  p.points = {{1.f, 2.f}};
  p.labels = {4};
  EXPECT_THROW(pe.encode(p), std::invalid_argument);
  p.labels = {1, 0};
  EXPECT_THROW(pe.encode(p), std::invalid_argument);
  p.labels = {1};
  p.mask_input = Tensor::zeros({1, 1, 64, 64});
  EXPECT_THROW(pe.encode(p), std::invalid_argument);
}

TEST(PromptEncoderLabels, NoPromptGivesNoTokensAndTheNoMaskEmbedding) {
  const PromptEncoder pe(Checkpoint::open(fixtures("random") / "checkpoint.pt"));
  const PromptEncoder::Embeddings e = pe.encode(Prompts{});
  EXPECT_EQ(e.sparse.numel(), 0);
  EXPECT_EQ(e.dense.shape(), (Shape{1, pe.embed_dim(), 64, 64}));
  // Every pixel holds the same vector; it differs between channels.
  EXPECT_EQ(e.dense.data()[0], e.dense.data()[4095]);
  EXPECT_NE(e.dense.data()[0], e.dense.data()[4096]);
}

}  // namespace
}  // namespace sammpa::sam
