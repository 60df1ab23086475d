// Model-type detection from keys and shapes: official layouts (built by the official modules), reduced test
// models, the real MobileSAM checkpoint, and a non-SAM state_dict.
#include <gtest/gtest.h>

#include <cstdlib>

#include "fixtures.h"
#include "sam/checkpoint/model_config.h"

namespace fs = std::filesystem;
using namespace sammpa::sam;
using sammpa::test::fixture;

namespace {

void expect_official_heads(const SamConfig& c) {
  EXPECT_EQ(c.image_size, 1024);
  EXPECT_EQ(c.image_embedding_size, 64);
  EXPECT_EQ(c.prompt.embed_dim, 256);
  EXPECT_EQ(c.decoder.transformer_dim, 256);
  EXPECT_EQ(c.decoder.depth, 2);
  EXPECT_EQ(c.decoder.num_heads, 8);
  EXPECT_EQ(c.decoder.num_multimask_outputs, 3);
  EXPECT_EQ(c.decoder.iou_head_depth, 3);
}

void expect_official_vit(const std::string& type, int embed, int depth, int heads, std::vector<int> global) {
  const SamConfig c = detect_sam_config(Checkpoint::open(fixture("layout_" + type + ".pt")));
  EXPECT_EQ(c.model_type, type);
  ASSERT_EQ(c.encoder, EncoderKind::ViT);
  EXPECT_EQ(c.vit.embed_dim, embed);
  EXPECT_EQ(c.vit.depth, depth);
  EXPECT_EQ(c.vit.num_heads, heads);
  EXPECT_EQ(c.vit.global_attn_indexes, global);
  EXPECT_EQ(c.vit.window_size, 14);
  EXPECT_EQ(c.vit.patch_size, 16);
  EXPECT_EQ(c.vit.in_chans, 3);
  EXPECT_EQ(c.vit.img_size, 1024);
  EXPECT_EQ(c.vit.grid(), 64);
  EXPECT_EQ(c.vit.mlp_dim, 4 * embed);
  EXPECT_TRUE(c.vit.qkv_bias);
  EXPECT_EQ(c.vit.out_chans, 256);
  expect_official_heads(c);
}

}  // namespace

TEST(ModelConfig, OfficialVitB) { expect_official_vit("vit_b", 768, 12, 12, {2, 5, 8, 11}); }
TEST(ModelConfig, OfficialVitL) { expect_official_vit("vit_l", 1024, 24, 16, {5, 11, 17, 23}); }
TEST(ModelConfig, OfficialVitH) { expect_official_vit("vit_h", 1280, 32, 16, {7, 15, 23, 31}); }

TEST(ModelConfig, ReducedVitReadsEveryDimFromShapes) {
  const auto cfg = sammpa::test::read_json(fixture("tiny_sam_vit.config.json"));
  const SamConfig c = detect_sam_config(Checkpoint::open(fixture("tiny_sam_vit.pt")));
  EXPECT_EQ(c.model_type, "vit");
  ASSERT_EQ(c.encoder, EncoderKind::ViT);
  EXPECT_EQ(c.vit.embed_dim, cfg["embed_dim"]);
  EXPECT_EQ(c.vit.depth, cfg["depth"]);
  EXPECT_EQ(c.vit.num_heads, cfg["num_heads"]);
  EXPECT_EQ(c.vit.global_attn_indexes, cfg["global_attn_indexes"].get<std::vector<int>>());
  EXPECT_EQ(c.vit.window_size, cfg["window_size"]);
  EXPECT_EQ(c.vit.patch_size, cfg["patch_size"]);
  EXPECT_EQ(c.vit.mlp_dim, cfg["mlp_ratio"].get<int>() * cfg["embed_dim"].get<int>());
  EXPECT_EQ(c.vit.out_chans, cfg["out_chans"]);
  EXPECT_EQ(c.vit.img_size, cfg["img_size"]);
  EXPECT_EQ(c.image_size, cfg["img_size"]);
  EXPECT_EQ(c.image_embedding_size, cfg["img_size"].get<int>() / cfg["patch_size"].get<int>());
  EXPECT_EQ(c.prompt.embed_dim, cfg["out_chans"]);
  EXPECT_EQ(c.decoder.transformer_dim, cfg["out_chans"]);
  EXPECT_EQ(c.decoder.depth, cfg["decoder_depth"]);
  EXPECT_EQ(c.decoder.num_multimask_outputs, cfg["num_multimask_outputs"]);
  EXPECT_EQ(c.decoder.iou_head_depth, cfg["iou_head_depth"]);
}

TEST(ModelConfig, ReducedTinyVit) {
  const auto cfg = sammpa::test::read_json(fixture("tiny_mobile_sam.config.json"));
  const SamConfig c = detect_sam_config(Checkpoint::open(fixture("tiny_mobile_sam.pt")));
  EXPECT_EQ(c.model_type, "tiny_vit");  // official dims, reduced depths
  ASSERT_EQ(c.encoder, EncoderKind::TinyViT);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(c.tiny.embed_dims[i], cfg["embed_dims"][i]);
    EXPECT_EQ(c.tiny.depths[i], cfg["depths"][i]);
    EXPECT_EQ(c.tiny.num_heads[i], i == 0 ? 0 : cfg["num_heads"][i].get<int>());
    EXPECT_EQ(c.tiny.window_sizes[i], i == 0 ? 0 : cfg["window_sizes"][i].get<int>());
  }
  EXPECT_EQ(c.decoder.depth, 1);
}

TEST(ModelConfig, RealMobileSamIsVitT) {
  const char* env = std::getenv("SAMMPA_MOBILE_SAM");
  ASSERT_TRUE(env && fs::exists(env)) << "SAMMPA_MOBILE_SAM (the real MobileSAM checkpoint) not set or missing";
  const SamConfig c = detect_sam_config(Checkpoint::open(env));
  EXPECT_EQ(c.model_type, "vit_t");
  ASSERT_EQ(c.encoder, EncoderKind::TinyViT);
  EXPECT_EQ(c.tiny.embed_dims, (std::array<int, 4>{64, 128, 160, 320}));
  EXPECT_EQ(c.tiny.depths, (std::array<int, 4>{2, 2, 6, 2}));
  EXPECT_EQ(c.tiny.num_heads, (std::array<int, 4>{0, 4, 5, 10}));
  EXPECT_EQ(c.tiny.window_sizes, (std::array<int, 4>{0, 7, 14, 7}));
  EXPECT_EQ(c.tiny.mlp_ratio, 4);
  EXPECT_EQ(c.tiny.mbconv_expand_ratio, 4);
  EXPECT_EQ(c.tiny.merge_strides, (std::array<int, 3>{2, 2, 1}));
  EXPECT_EQ(c.tiny.out_chans, 256);
  expect_official_heads(c);
}

TEST(ModelConfig, NonSamStateDictNamesExpectedKeys) {
  try {
    detect_sam_config(Checkpoint::open(fixture("tensors.pt")));
    FAIL() << "no error";
  } catch (const CheckpointError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(fixture("tensors.pt").string() + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find("image_encoder.patch_embed.proj.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("image_encoder.patch_embed.seq.0.c.weight"), std::string::npos) << msg;
  }
}
