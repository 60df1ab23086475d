#include "sam/checkpoint/model_config.h"

#include <algorithm>
#include <cmath>

namespace sammpa::sam {

namespace {

// Key and shape queries with errors that say which key the SAM layout needs.
class Layout {
 public:
  explicit Layout(const WeightShapes& s) : s_(s) {}

  bool has(const std::string& key) const { return s_.has(key); }
  Shape need(const std::string& key, size_t rank) const {
    if (!s_.has(key)) fail("expected key '" + key + "' is missing");
    Shape s = s_.shape(key);
    if (s.size() != rank)
      fail("'" + key + "' has shape " + Tensor::view(nullptr, s).shape_str() + ", expected rank " +
           std::to_string(rank));
    // Sizes below are divided by and narrowed to int: every one must be positive and of a sane size.
    for (int64_t d : s)
      if (d < 1 || d > kMaxDim)
        fail("'" + key + "' has shape " + Tensor::view(nullptr, s).shape_str() + ", with a dimension outside [1, " +
             std::to_string(kMaxDim) + "]");
    return s;
  }
  // numerator / denominator, which must divide exactly and give at least 1 (e.g. an expansion ratio).
  int ratio(int64_t numerator, int64_t denominator, const std::string& what) const {
    if (denominator < 1 || numerator < denominator || numerator % denominator != 0)
      fail(what + ": " + std::to_string(numerator) + " is not a positive multiple of " + std::to_string(denominator));
    return static_cast<int>(numerator / denominator);
  }
  static constexpr int64_t kMaxDim = int64_t{1} << 20;
  int dim(const std::string& key, size_t rank, size_t i) const { return static_cast<int>(need(key, rank)[i]); }
  // How many of prefix0.suffix, prefix1.suffix, ... exist.
  int count(const std::string& prefix, const std::string& suffix) const {
    int n = 0;
    while (s_.has(prefix + std::to_string(n) + suffix)) ++n;
    return n;
  }
  [[noreturn]] void fail(const std::string& problem) const {
    throw CheckpointError((s_.name.empty() ? "" : s_.name + ": ") + "not a SAM checkpoint layout: " + problem);
  }

 private:
  const WeightShapes& s_;
};

const std::string kEnc = "image_encoder.";

VitConfig read_vit(const Layout& l, const std::string& enc) {
  VitConfig v;
  const Shape proj = l.need(enc + "patch_embed.proj.weight", 4);  // [embed, in_chans, patch, patch]
  if (proj[2] != proj[3]) l.fail(enc + "patch_embed.proj.weight is not a square conv kernel");
  v.embed_dim = static_cast<int>(proj[0]);
  v.in_chans = static_cast<int>(proj[1]);
  v.patch_size = static_cast<int>(proj[2]);
  const Shape pos = l.need(enc + "pos_embed", 4);  // [1, H, W, embed]
  if (pos[1] != pos[2]) l.fail(enc + "pos_embed is not square");
  const int grid = static_cast<int>(pos[1]);
  if (int64_t{grid} * v.patch_size > Layout::kMaxDim) l.fail(enc + "pos_embed: the image side is too large");
  v.img_size = grid * v.patch_size;
  v.depth = l.count(enc + "blocks.", ".attn.qkv.weight");
  if (v.depth == 0) l.fail("expected keys " + enc + "blocks.N.attn.qkv.weight");
  v.qkv_bias = l.has(enc + "blocks.0.attn.qkv.bias");
  for (int i = 0; i < v.depth; ++i) {
    const std::string b = enc + "blocks." + std::to_string(i) + ".attn.";
    const Shape rel = l.need(b + "rel_pos_h", 2);  // [2 * attended side - 1, head dim]
    const int heads = v.embed_dim / static_cast<int>(rel[1]);
    if (i == 0) v.num_heads = heads;
    if (heads != v.num_heads || v.num_heads * rel[1] != v.embed_dim) l.fail(b + "rel_pos_h: inconsistent head dim");
    if (rel[0] % 2 == 0) l.fail(b + "rel_pos_h: an even number of rows (expected 2 * side - 1)");
    const int side = static_cast<int>(rel[0] + 1) / 2;
    if (side > grid) l.fail(b + "rel_pos_h spans more than the token grid");
    if (side == grid) {
      v.global_attn_indexes.push_back(i);
    } else if (v.window_size == 0 || v.window_size == side) {
      v.window_size = side;
    } else {
      l.fail(b + "rel_pos_h: window blocks disagree on the window size");
    }
    if (l.has(b + "qkv.bias") != v.qkv_bias) l.fail(b + "qkv.bias: blocks disagree on the qkv bias");
  }
  v.mlp_dim = l.dim(enc + "blocks.0.mlp.lin1.weight", 2, 0);
  v.out_chans = l.dim(enc + "neck.0.weight", 4, 0);
  return v;
}

// `embedding_size`: the output side (not stored in the weights, like the input side).
TinyVitConfig read_tiny_vit(const Layout& l, const std::string& enc, int& embedding_size) {
  TinyVitConfig t;
  // Stem: two convs (with BatchNorm) of the same square kernel; MobileSAM's are 3x3 stride 2, LiteMedSAM's 1x1
  // stride 1. Either way the first stage runs at 256x256 in the official models (not stored in the weights).
  const Shape stem0 = l.need(enc + "patch_embed.seq.0.c.weight", 4),
              stem2 = l.need(enc + "patch_embed.seq.2.c.weight", 4);
  if (stem0[2] != stem0[3] || stem2[2] != stem0[2] || stem2[3] != stem0[3] || (stem0[2] != 3 && stem0[2] != 1))
    l.fail("patch_embed.seq.0/.2 kernels must both be 3x3 (MobileSAM) or both 1x1 (LiteMedSAM)");
  t.stem_kernel = static_cast<int>(stem0[2]);
  t.stem_stride = t.stem_kernel == 3 ? 2 : 1;
  if (l.has(enc + "layers.4.blocks.0.attn.qkv.weight")) l.fail("TinyViT with more than 4 stages");
  const std::string s0 = enc + "layers.0.blocks.";
  const Shape conv1 = l.need(s0 + "0.conv1.c.weight", 4);  // [dim * expand, dim, 1, 1]
  t.embed_dims[0] = static_cast<int>(conv1[1]);
  t.mbconv_expand_ratio = l.ratio(conv1[0], conv1[1], s0 + "0.conv1.c.weight");
  t.depths[0] = l.count(s0, ".conv1.c.weight");
  if (stem2[0] != t.embed_dims[0] || stem0[0] * 2 != t.embed_dims[0])
    l.fail("patch_embed.seq.0/.2 widths must be half the first stage's and the first stage's");
  for (int i = 1; i < 4; ++i) {
    const std::string s = enc + "layers." + std::to_string(i) + ".blocks.";
    t.embed_dims[i] = l.dim(s + "0.attn.norm.weight", 1, 0);
    t.depths[i] = l.count(s, ".attn.qkv.weight");
    const Shape bias = l.need(s + "0.attn.attention_biases", 2);  // [heads, window * window offsets]
    t.num_heads[i] = static_cast<int>(bias[0]);
    l.ratio(t.embed_dims[i], t.num_heads[i], s + "0.attn.attention_biases (embed dim / heads)");
    t.window_sizes[i] = static_cast<int>(std::lround(std::sqrt(static_cast<double>(bias[1]))));
    if (t.window_sizes[i] * t.window_sizes[i] != bias[1]) l.fail(s + "0.attn.attention_biases is not square");
  }
  t.mlp_ratio = l.ratio(l.dim(enc + "layers.1.blocks.0.mlp.fc1.weight", 2, 0), t.embed_dims[1],
                        enc + "layers.1.blocks.0.mlp.fc1.weight");
  int side = 256;
  for (int i = 0; i < 3; ++i) {
    l.need(enc + "layers." + std::to_string(i) + ".downsample.conv2.c.weight", 4);
    const int out = t.embed_dims[i + 1];
    t.merge_strides[i] = (out == 320 || out == 448 || out == 576) ? 1 : 2;
    side /= t.merge_strides[i];
  }
  embedding_size = side;
  t.out_chans = l.dim(enc + "neck.0.weight", 4, 0);
  return t;
}

PromptEncoderConfig read_prompt(const Layout& l) {
  const std::string p = "prompt_encoder.";
  PromptEncoderConfig c;
  c.embed_dim = l.dim(p + "no_mask_embed.weight", 2, 1);
  l.need(p + "mask_downscaling.3.weight", 4);
  if (l.dim(p + "pe_layer.positional_encoding_gaussian_matrix", 2, 1) * 2 != c.embed_dim)
    l.fail("prompt_encoder.pe_layer.positional_encoding_gaussian_matrix does not match the embed dim");
  return c;
}

MaskDecoderConfig read_decoder(const Layout& l) {
  const std::string d = "mask_decoder.", t = d + "transformer.layers.";
  MaskDecoderConfig c;
  c.transformer_dim = l.dim(d + "iou_token.weight", 2, 1);
  c.depth = l.count(t, ".self_attn.q_proj.weight");
  if (c.depth == 0) l.fail("expected keys " + t + "N.self_attn.q_proj.weight");
  l.need(t + "0.mlp.lin1.weight", 2);
  // The cross attention's internal dim divides the transformer dim (its downsample rate).
  l.ratio(c.transformer_dim, l.dim(t + "0.cross_attn_token_to_image.q_proj.weight", 2, 0),
          t + "0.cross_attn_token_to_image.q_proj.weight");
  c.num_multimask_outputs = l.dim(d + "mask_tokens.weight", 2, 0) - 1;
  c.iou_head_depth = l.count(d + "iou_prediction_head.layers.", ".weight");
  l.need(d + "iou_prediction_head.layers.0.weight", 2);
  l.ratio(c.transformer_dim, 8, d + "iou_token.weight (the upscaling divides the dim by 8)");
  // The IoU head predicts one score per mask token.
  const std::string last = d + "iou_prediction_head.layers." + std::to_string(c.iou_head_depth - 1) + ".weight";
  if (l.dim(last, 2, 0) != c.num_multimask_outputs + 1)
    l.fail("'" + last + "' gives " + std::to_string(l.dim(last, 2, 0)) + " IoU scores for " +
           std::to_string(c.num_multimask_outputs + 1) + " mask tokens");
  return c;
}

std::string official_vit_name(const VitConfig& v) {
  if (v.patch_size != 16 || v.grid() != 64 || v.in_chans != 3 || v.window_size != 14 || v.mlp_dim != 4 * v.embed_dim)
    return "vit";
  struct Known {
    const char* name;
    int embed, depth, heads;
    std::vector<int> global;
  };
  static const Known known[] = {{"vit_b", 768, 12, 12, {2, 5, 8, 11}},
                                {"vit_l", 1024, 24, 16, {5, 11, 17, 23}},
                                {"vit_h", 1280, 32, 16, {7, 15, 23, 31}}};
  for (const auto& k : known)
    if (v.embed_dim == k.embed && v.depth == k.depth && v.num_heads == k.heads && v.global_attn_indexes == k.global)
      return k.name;
  return "vit";
}

bool has_official_tiny_vit_sizes(const TinyVitConfig& t) {
  return t.embed_dims == std::array<int, 4>{64, 128, 160, 320} && t.depths == std::array<int, 4>{2, 2, 6, 2} &&
         t.num_heads == std::array<int, 4>{0, 4, 5, 10} && t.window_sizes == std::array<int, 4>{0, 7, 14, 7};
}

}  // namespace

int VitConfig::block_window(int block) const {
  const bool global =
      std::find(global_attn_indexes.begin(), global_attn_indexes.end(), block) != global_attn_indexes.end();
  return global ? 0 : window_size;
}

WeightShapes weight_shapes(const Checkpoint& ckpt) {
  return {ckpt.file().string(), [ckpt](const std::string& k) { return ckpt.has(k); },
          [ckpt](const std::string& k) { return ckpt.shape(k); }};
}

SamConfig detect_sam_config(const Checkpoint& ckpt) { return detect_sam_config(weight_shapes(ckpt)); }

SamConfig detect_sam_config(const WeightShapes& source) {
  const Layout l(source);
  SamConfig c;
  if (l.has(kEnc + "patch_embed.proj.weight")) {
    c.encoder = EncoderKind::ViT;
    c.vit = read_vit(l, kEnc);
    c.image_size = c.vit.img_size;
    c.image_embedding_size = c.vit.grid();
    c.model_type = official_vit_name(c.vit);
  } else if (l.has(kEnc + "patch_embed.seq.0.c.weight")) {
    c.encoder = EncoderKind::TinyViT;
    c.tiny = read_tiny_vit(l, kEnc, c.image_embedding_size);
    // Not stored: 1024 for MobileSAM's stem (two stride-2 convs), 256 for LiteMedSAM's (stride 1).
    c.image_size = c.tiny.input_size();
    if (c.tiny.stem_kernel == 1) c.input_norm = InputNorm::MinMax;
    c.model_type = !has_official_tiny_vit_sizes(c.tiny) ? "tiny_vit"
                   : c.tiny.stem_kernel == 3 ? "vit_t" : "lite_medsam";
  } else {
    l.fail("expected image_encoder.patch_embed.proj.weight (SAM ViT) or image_encoder.patch_embed.seq.0.c.weight "
           "(MobileSAM / LiteMedSAM TinyViT), plus prompt_encoder.* and mask_decoder.* keys");
  }
  c.prompt = read_prompt(l);
  c.decoder = read_decoder(l);
  const int enc_out = c.encoder == EncoderKind::ViT ? c.vit.out_chans : c.tiny.out_chans;
  if (enc_out != c.prompt.embed_dim || c.prompt.embed_dim != c.decoder.transformer_dim)
    l.fail("image encoder output (" + std::to_string(enc_out) + "), prompt encoder (" +
           std::to_string(c.prompt.embed_dim) + ") and mask decoder (" + std::to_string(c.decoder.transformer_dim) +
           ") dims differ");
  return c;
}

VitConfig detect_vit_config(const WeightShapes& source, const std::string& prefix) {
  return read_vit(Layout(source), prefix);
}

VitConfig detect_vit_config(const Checkpoint& ckpt, const std::string& prefix) {
  return detect_vit_config(weight_shapes(ckpt), prefix);
}

TinyVitConfig detect_tiny_vit_config(const WeightShapes& source, const std::string& prefix) {
  int embedding_size = 0;
  return read_tiny_vit(Layout(source), prefix, embedding_size);
}

TinyVitConfig detect_tiny_vit_config(const Checkpoint& ckpt, const std::string& prefix) {
  return detect_tiny_vit_config(weight_shapes(ckpt), prefix);
}

}  // namespace sammpa::sam
