// The ViT image encoder against the official segment_anything ImageEncoderViT (fixture written by
// make_vit_fixture.py): same weights, same input, the embedding must agree to about 10x the measured error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "npy.h"
#include "sam/encoders/image_encoder_vit.h"

namespace fs = std::filesystem;
using sammpa::sam::Checkpoint;
using sammpa::sam::CheckpointError;
using sammpa::sam::ImageEncoderViT;
using sammpa::sam::Tensor;
using sammpa::sam::VitConfig;

namespace {

const fs::path kFixture = SAMMPA_VIT_FIXTURE_DIR;
// About 10x the largest error measured over the four configurations [8.6e-6, patch8].
constexpr float kTol = 1e-4f;

Tensor load_npy(const fs::path& file) {
  const auto npy = sammpa::test::read_npy(file);
  Tensor t(npy.shape);
  std::copy(npy.data.begin(), npy.data.end(), t.data());
  return t;
}

// Weights from the fixture's weights/<key>.npy files.
ImageEncoderViT::WeightSource npy_weights(const fs::path& folder) {
  return {folder.string(), [folder](const std::string& k) { return fs::exists(folder / (k + ".npy")); },
          [folder](const std::string& k) { return load_npy(folder / (k + ".npy")); }};
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  float m = 0.f;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
  return m;
}

nlohmann::json read_config(const std::string& name) {
  std::ifstream in(kFixture / name / "config.json");
  return nlohmann::json::parse(in);
}

class VitReference : public ::testing::TestWithParam<std::string> {};

TEST_P(VitReference, ConfigIsReadFromWeightShapes) {
  const auto json = read_config(GetParam());
  const auto enc = ImageEncoderViT::load(npy_weights(kFixture / GetParam() / "weights"));
  const VitConfig& cfg = enc.config();
  EXPECT_EQ(cfg.img_size, json["img_size"].get<int>());
  EXPECT_EQ(cfg.grid(), json["img_size"].get<int>() / json["patch_size"].get<int>());
  EXPECT_EQ(cfg.patch_size, json["patch_size"].get<int>());
  EXPECT_EQ(cfg.in_chans, 3);
  EXPECT_EQ(cfg.embed_dim, json["embed_dim"].get<int>());
  EXPECT_EQ(cfg.depth, json["depth"].get<int>());
  EXPECT_EQ(cfg.num_heads, json["num_heads"].get<int>());
  EXPECT_EQ(cfg.mlp_dim, json["mlp_dim"].get<int>());
  EXPECT_EQ(cfg.out_chans, json["out_chans"].get<int>());
  EXPECT_EQ(cfg.global_attn_indexes, json["global_attn_indexes"].get<std::vector<int>>());
  EXPECT_EQ(cfg.window_size, json["window_size"].get<int>());
  EXPECT_TRUE(cfg.qkv_bias);
  // The same configuration read from the checkpoint.
  const VitConfig c = sammpa::sam::detect_vit_config(Checkpoint::open(kFixture / GetParam() / "checkpoint.pth"));
  EXPECT_EQ(c.img_size, cfg.img_size);
  EXPECT_EQ(c.embed_dim, cfg.embed_dim);
  EXPECT_EQ(c.global_attn_indexes, cfg.global_attn_indexes);
  EXPECT_EQ(c.window_size, cfg.window_size);
  EXPECT_EQ(c.mlp_dim, cfg.mlp_dim);
}

TEST_P(VitReference, MatchesOfficialEncoder) {
  const fs::path dir = kFixture / GetParam();
  const auto enc = ImageEncoderViT::load(npy_weights(dir / "weights"));
  const Tensor expected = load_npy(dir / "output.npy");
  const Tensor out = enc.forward(load_npy(dir / "input.npy"));
  ASSERT_EQ(out.shape(), expected.shape());
  const float err = max_abs_diff(out, expected);
  std::cout << GetParam() << ": max abs error " << err << "\n";
  RecordProperty("max_abs_error", std::to_string(err));
  EXPECT_LT(err, kTol);
  // The second image reuses the workspace and must give the same answer.
  EXPECT_EQ(max_abs_diff(enc.forward(load_npy(dir / "input.npy")), out), 0.f);
}

TEST_P(VitReference, LoadsOfficialCheckpoint) {
  const fs::path dir = kFixture / GetParam();
  const auto enc = ImageEncoderViT::load(Checkpoint::open(dir / "checkpoint.pth"));
  const float err = max_abs_diff(enc.forward(load_npy(dir / "input.npy")), load_npy(dir / "output.npy"));
  std::cout << GetParam() << " (checkpoint): max abs error " << err << "\n";
  EXPECT_LT(err, kTol);
}

INSTANTIATE_TEST_SUITE_P(Configs, VitReference, ::testing::Values("padded", "patch8", "tiled", "long"));

// Opt-in (large, ~1 min): a real-size ViT-B written by `make_vit_fixture.py DIR --full-vit-b`, with
// SAMMPA_VIT_FULL_FIXTURE=DIR. Disabled in the default run (ctest lists it as "Not Run (Disabled)", never as
// passed); the ctest test sam_vit_full_size (label opt-in) generates the fixture and runs it, see
// tests/sam_vit/CMakeLists.txt.
TEST(OptInFullSize, DISABLED_ViTBMatchesOfficialEncoder) {
  const char* dir = std::getenv("SAMMPA_VIT_FULL_FIXTURE");
  ASSERT_TRUE(dir && *dir) << "set SAMMPA_VIT_FULL_FIXTURE to run the full-size ViT-B comparison";
  const auto enc = ImageEncoderViT::load(Checkpoint::open(fs::path(dir) / "checkpoint.pth"));
  EXPECT_EQ(enc.config().global_attn_indexes, (std::vector<int>{2, 5, 8, 11}));
  const float err = max_abs_diff(enc.forward(load_npy(fs::path(dir) / "input.npy")),
                                 load_npy(fs::path(dir) / "output.npy"));
  std::cout << "ViT-B 1024x1024: max abs error " << err << "\n";
  EXPECT_LT(err, 1e-3f);
}

// The CheckpointError message of loading `src`, or "loaded" when it loads.
std::string load_error(const ImageEncoderViT::WeightSource& src) {
  try {
    ImageEncoderViT::load(src);
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "loaded";
}

// The fixture's weights without `key`.
ImageEncoderViT::WeightSource without(const std::string& key) {
  auto src = npy_weights(kFixture / "padded" / "weights");
  auto has = src.has;
  src.has = [has, key](const std::string& k) { return k != key && has(k); };
  return src;
}

TEST(ImageEncoderViT, MissingWeightIsNamed) {
  const std::string error = load_error(without("image_encoder.blocks.2.mlp.lin2.bias"));
  EXPECT_NE(error.find("image_encoder.blocks.2.mlp.lin2.bias"), std::string::npos) << error;
}

TEST(ImageEncoderViT, WrongShapeIsNamed) {
  auto src = npy_weights(kFixture / "padded" / "weights");
  auto get = src.get;
  src.get = [get](const std::string& k) {
    Tensor t = get(k);
    return k == "image_encoder.blocks.1.attn.proj.weight" ? t.reshaped({t.dim(1), t.dim(0)}).clone().reshaped({-1})
                                                          : t;
  };
  const std::string error = load_error(src);
  EXPECT_NE(error.find("blocks.1.attn.proj.weight' has shape"), std::string::npos) << error;
}

TEST(ImageEncoderViT, WeightsAreCheckedAgainstTheConfig) {
  const auto src = npy_weights(kFixture / "padded" / "weights");
  const VitConfig detected = sammpa::sam::detect_vit_config(src.shapes());
  auto error = [&](const VitConfig& cfg) -> std::string {
    try {
      ImageEncoderViT::load(cfg, src);
    } catch (const CheckpointError& e) {
      return e.what();
    }
    return "";
  };
  VitConfig cfg = detected;
  cfg.mlp_dim *= 2;
  EXPECT_NE(error(cfg).find("blocks.0.mlp.lin1.weight' has shape"), std::string::npos) << error(cfg);
  cfg = detected;
  cfg.window_size += 1;  // block 0 has windowed attention
  EXPECT_NE(error(cfg).find("blocks.0.attn.rel_pos_h' has shape"), std::string::npos) << error(cfg);
  cfg = detected;
  cfg.num_heads = 5;  // does not divide the width
  EXPECT_THROW(ImageEncoderViT::load(cfg, src), std::invalid_argument);
}

TEST(ImageEncoderViT, DetectionNamesTheMissingKey) {
  const std::string error = load_error(without("image_encoder.blocks.1.attn.rel_pos_h"));
  EXPECT_NE(error.find("'image_encoder.blocks.1.attn.rel_pos_h' is missing"), std::string::npos) << error;
}

TEST(ImageEncoderViT, RejectsWrongImageSize) {
  const auto enc = ImageEncoderViT::load(npy_weights(kFixture / "padded" / "weights"));
  EXPECT_THROW(enc.forward(Tensor::zeros({1, 3, 128, 128})), std::invalid_argument);
}

}  // namespace
