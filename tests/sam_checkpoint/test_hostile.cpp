// Hostile checkpoints built inside the test: pickle bombs, cycles, zero-sized and inconsistent dimensions.
// Each must be a CheckpointError naming the file, quickly, never a crash.
#include <gtest/gtest.h>

#include <chrono>

#include "craft.h"
#include "fixtures.h"
#include "sam/checkpoint/checkpoint.h"
#include "sam/checkpoint/model_config.h"
#include "sam/checkpoint/pickle_reader.h"
#include "sam/checkpoint/zip_archive.h"
#include "sam/decoder/mask_decoder.h"
#include "test_support.h"

namespace fs = std::filesystem;
using sammpa::sam::Checkpoint;
using sammpa::sam::CheckpointError;
using sammpa::test::open_error;
using sammpa::test::CraftedTensor;

namespace {

// The error message of unpickling `bytes` directly.
std::string pickle_error(const std::string& bytes) {
  try {
    sammpa::sam::detail::load_pickle(bytes);
  } catch (const sammpa::sam::detail::FormatError& e) {
    return e.what();
  }
  return "";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// n empty lists, each appended into the one before: n-deep nesting in 2n bytes.
std::string nested_lists(size_t n) {
  std::string p = "\x80\x02";
  p.append(n, ']');
  p.append(n - 1, 'a');
  return p + ".";
}

}  // namespace

// The reported crash: a 2 MB data.pkl nesting a million empty lists (exit 139 before the fix).
TEST(CheckpointHostile, MillionNestedListsFailFast) {
  sammpa::test::TempDir dir;
  const fs::path file = dir / "nested.pt";
  sammpa::test::write_checkpoint(file, nested_lists(1000000));
  const auto t0 = std::chrono::steady_clock::now();
  const std::string msg = open_error(file);
  EXPECT_LT(seconds_since(t0), 2.0);
  EXPECT_EQ(msg.rfind(file.string() + ": data.pkl: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("objects (not a state_dict)"), std::string::npos) << msg;
}

TEST(CheckpointHostile, DeepNestingIsBounded) {
  // Under the object limit, but deeper than any state_dict.
  const std::string deep = pickle_error(nested_lists(10000));
  EXPECT_NE(deep.find("nested more than 64 deep"), std::string::npos) << deep;
  // Just inside the bound still loads (64 levels: the outermost list is at depth 64).
  EXPECT_EQ(pickle_error(nested_lists(64)), "");
  EXPECT_NE(pickle_error(nested_lists(65)), "");
  // Tuples and dicts count as well: ((((...)))) built with TUPLE1.
  std::string tuples = "\x80\x02)";
  tuples.append(100, '\x85');
  EXPECT_NE(pickle_error(tuples + "."), "");
}

TEST(CheckpointHostile, TooManyObjects) {
  // A flat list of 600,000 Nones: shallow, but more values than any state_dict.
  std::string p = "\x80\x02](";
  p.append(600000, 'N');
  const std::string msg = pickle_error(p + "e.");
  EXPECT_NE(msg.find("more than 524288 objects"), std::string::npos) << msg;
  // So are a million marks.
  EXPECT_NE(pickle_error("\x80\x02" + std::string(1000000, '(')).find("objects"), std::string::npos);
}

// A byte string from a literal that may hold NUL bytes.
template <size_t N>
std::string bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

TEST(CheckpointHostile, NoCycles) {
  // l.append(l): a list put into itself.
  const std::string self = pickle_error(bytes("\x80\x02]q\x00h\x00" "a."));
  EXPECT_NE(self.find("a list put into itself"), std::string::npos) << self;
  // a = []; b = [a]; a.append([]): a container changed after it went into another one.
  const std::string msg = pickle_error(bytes("\x80\x02]q\x00]q\x01h\x00" "a0]a."));
  EXPECT_NE(msg.find("a list changed after it was put into another container"), std::string::npos) << msg;
  // d = {}; t = (d,); d[1] = t
  const std::string dict = pickle_error(bytes("\x80\x02}q\x00h\x00\x85q\x01" "0h\x00K\x01h\x01s."));
  EXPECT_NE(dict.find("a dict changed after"), std::string::npos) << dict;
}

TEST(CheckpointHostile, HandBuiltStateDictLoads) {
  // The crafting helper itself writes what the reader accepts (so the failures below are about the values).
  sammpa::test::TempDir dir;
  sammpa::test::write_state_dict(dir / "ok.pt", {{"w", {{2, 3}, {1, 2, 3, 4, 5, 6}}}});
  const Checkpoint c = Checkpoint::open(dir / "ok.pt");
  ASSERT_EQ(c.shape("w"), (sammpa::sam::Shape{2, 3}));
  EXPECT_EQ(c.get("w").data()[5], 6.f);
}

namespace {

// The tiny SAM ViT fixture as {key: tensor}, to be altered and written back.
std::map<std::string, CraftedTensor> tiny_sam() {
  const Checkpoint c = Checkpoint::open(sammpa::test::fixture("tiny_sam_vit.pt"));
  std::map<std::string, CraftedTensor> sd;
  for (const auto& k : c.keys()) {
    const auto t = c.get(k);
    sd[k] = {t.shape(), std::vector<float>(t.data(), t.data() + t.numel())};
  }
  return sd;
}

void set_shape(std::map<std::string, CraftedTensor>& sd, const std::string& key, std::vector<int64_t> shape) {
  ASSERT_TRUE(sd.count(key)) << key;
  int64_t n = 1;
  for (auto d : shape) n *= d;
  sd[key] = {std::move(shape), std::vector<float>(static_cast<size_t>(n), 0.f)};
}

std::string config_error(const fs::path& file) {
  try {
    sammpa::sam::detect_sam_config(Checkpoint::open(file));
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(CheckpointHostile, ConfigRejectsZeroSizedDimensions) {
  sammpa::test::TempDir dir;
  {  // unaltered: detected
    auto sd = tiny_sam();
    sammpa::test::write_state_dict(dir / "same.pt", sd);
    EXPECT_EQ(config_error(dir / "same.pt"), "");
  }
  // Each of these was a divisor (SIGFPE) or a narrowing to int before.
  const std::vector<std::pair<std::string, std::vector<int64_t>>> cases = {
      {"image_encoder.blocks.0.attn.rel_pos_h", {15, 0}},
      {"mask_decoder.transformer.layers.0.cross_attn_token_to_image.q_proj.weight", {0, 32}},
      {"image_encoder.patch_embed.proj.weight", {0, 3, 16, 16}},
      {"mask_decoder.iou_token.weight", {1, 0}},
  };
  for (const auto& [key, shape] : cases) {
    auto sd = tiny_sam();
    set_shape(sd, key, shape);
    const fs::path file = dir / "zero.pt";
    sammpa::test::write_state_dict(file, sd);
    const std::string msg = config_error(file);
    EXPECT_EQ(msg.rfind(file.string() + ": not a SAM checkpoint layout: '" + key + "'", 0), 0u) << msg;
    EXPECT_NE(msg.find("outside [1, 1048576]"), std::string::npos) << msg;
  }
  {  // a q_proj wider than the transformer: a downsample rate of 0 (a divisor later)
    auto sd = tiny_sam();
    const auto& q = sd["mask_decoder.transformer.layers.0.cross_attn_token_to_image.q_proj.weight"].shape;
    set_shape(sd, "mask_decoder.transformer.layers.0.cross_attn_token_to_image.q_proj.weight", {q[1] * 2, q[1]});
    sammpa::test::write_state_dict(dir / "wide.pt", sd);
    EXPECT_NE(config_error(dir / "wide.pt").find("is not a positive multiple of"), std::string::npos);
  }
}

TEST(CheckpointHostile, DecoderIouHeadMustMatchMaskTokens) {
  sammpa::test::TempDir dir;
  auto sd = tiny_sam();
  const std::string last = "mask_decoder.iou_prediction_head.layers.1.";  // the fixture's head has 2 layers
  ASSERT_TRUE(sd.count(last + "weight"));
  ASSERT_FALSE(sd.count("mask_decoder.iou_prediction_head.layers.2.weight"));
  const int64_t tokens = sd["mask_decoder.mask_tokens.weight"].shape[0];
  const int64_t hidden = sd[last + "weight"].shape[1];
  set_shape(sd, last + "weight", {tokens - 1, hidden});  // one score short: read past the end before
  set_shape(sd, last + "bias", {tokens - 1});
  const fs::path file = dir / "iou.pt";
  sammpa::test::write_state_dict(file, sd);
  const std::string cfg = config_error(file);
  EXPECT_NE(cfg.find("IoU scores for " + std::to_string(tokens) + " mask tokens"), std::string::npos) << cfg;
  try {
    sammpa::sam::MaskDecoder decoder(Checkpoint::open(file));
    FAIL() << "no error";
  } catch (const CheckpointError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(file.string() + ": 'mask_decoder.iou_prediction_head' maps", 0), 0u) << msg;
    const int64_t width = sd["mask_decoder.iou_token.weight"].shape[1];
    EXPECT_NE(msg.find("expected " + std::to_string(width) + " to " + std::to_string(tokens)), std::string::npos)
        << msg;
  }
}
