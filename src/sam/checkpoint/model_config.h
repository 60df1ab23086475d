#pragma once
// Which SAM variant a checkpoint holds, and its hyper-parameters, read from the state_dict's keys and shapes
// (so reduced test models are recognised as well as the official ones). Official layouts:
//   vit_b: ViT embed 768, depth 12, 12 heads, global attention in blocks 2,5,8,11 (also MedSAM)
//   vit_l: 1024, 24, 16 heads, 5,11,17,23        vit_h: 1280, 32, 16 heads, 7,15,23,31
//   vit_t: MobileSAM TinyViT, embed dims 64,128,160,320, depths 2,2,6,2, heads -,4,5,10, windows -,7,14,7
//   lite_medsam: LiteMedSAM, the same TinyViT but with a 1x1 stride-1 stem (two 3x3 stride-2 convs in MobileSAM):
//     256x256 input, 64x64 embedding, its own pre-processing (see InputNorm)
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "sam/checkpoint/checkpoint.h"

namespace sammpa::sam {

enum class EncoderKind { ViT, TinyViT };

// segment_anything ImageEncoderViT (image_encoder.patch_embed / pos_embed / blocks.N / neck).
struct VitConfig {
  int img_size = 0;     // input side: the token grid (pos_embed side) times patch_size
  int patch_size = 0;   // patch_embed.proj kernel (square)
  int in_chans = 0;     // patch_embed.proj.weight columns
  int embed_dim = 0;    // patch_embed.proj.weight rows
  int depth = 0;        // number of blocks
  int num_heads = 0;    // embed_dim / head dim (head dim = rel_pos_h columns)
  int mlp_dim = 0;      // blocks.0.mlp.lin1 rows
  int window_size = 0;  // windowed blocks: rel_pos_h has 2*window-1 rows (0 when every block is global)
  std::vector<int> global_attn_indexes;  // blocks whose rel_pos_h has 2*grid-1 rows (attention over the grid)
  bool qkv_bias = true;  // blocks.N.attn.qkv.bias present (in every block, or in none)
  int out_chans = 0;    // neck.0.weight rows
  // The token grid side (the embedding side).
  int grid() const { return patch_size ? img_size / patch_size : 0; }
  // The attention window of block `block`: window_size, or 0 for a global-attention block.
  int block_window(int block) const;
};

// MobileSAM TinyViT (image_encoder.patch_embed.seq / layers.N / neck). Stage 0 is convolutional (MBConv):
// it has no attention, so its num_heads and window_size are 0.
struct TinyVitConfig {
  std::array<int, 4> embed_dims{}, depths{}, num_heads{}, window_sizes{};
  int mlp_ratio = 0;             // fc1 rows / dim
  int mbconv_expand_ratio = 0;   // conv1 rows / dim in stage 0
  // Stride of each stage's PatchMerging (stages 0-2). Not stored in the weights: MobileSAM's code uses 1 when
  // the output dim is 320, 448 or 576 and 2 otherwise, which keeps a 64x64 output for a 1024 input.
  std::array<int, 3> merge_strides{};
  // The stem (patch_embed.seq.0 / .2): 3x3 stride 2 twice in MobileSAM (input 4x the stage-0 side), 1x1 stride 1
  // in LiteMedSAM (input = stage-0 side). Kernel from the weights; stride 2 for 3x3, 1 for 1x1.
  int stem_kernel = 3, stem_stride = 2;
  int out_chans = 0;             // neck.0.weight rows
  // The input side: the first stage runs at 256x256 in the official models (not stored in the weights).
  int input_size() const { return 256 * stem_stride * stem_stride; }
};

// The prompt encoder and mask decoder read their other sizes from the weights' shapes when they load; detection
// reads these to check that the three modules fit together.
struct PromptEncoderConfig {
  int embed_dim = 0;  // no_mask_embed.weight columns
};

struct MaskDecoderConfig {
  int transformer_dim = 0;
  int depth = 0;                  // transformer.layers.N (at least 1)
  int num_heads = 8;              // not stored in the weights; every official model uses 8
  int num_multimask_outputs = 0;  // mask_tokens rows - 1 (the IoU head scores every mask token)
  int iou_head_depth = 0;         // iou_prediction_head.layers.N
};

// How an image becomes the encoder input (both: RGB, longest side resized to image_size, zero padding at the
// bottom and right).
enum class InputNorm {
  MeanStd,  // SAM / MobileSAM / MedSAM: Pillow bilinear resize, (pixel - pixel_mean) / pixel_std
  MinMax,   // LiteMedSAM: OpenCV INTER_AREA resize, (pixel - min) / max(max - min, 1e-8) over the resized image
};

struct SamConfig {
  std::string model_type;  // "vit_b", "vit_l", "vit_h", "vit_t", "lite_medsam", or "vit" / "tiny_vit" otherwise
  EncoderKind encoder = EncoderKind::ViT;
  VitConfig vit;           // when encoder == ViT
  TinyVitConfig tiny;      // when encoder == TinyViT
  PromptEncoderConfig prompt;
  MaskDecoderConfig decoder;
  int image_size = 0;             // input side (1024 for official models, 256 for LiteMedSAM)
  int image_embedding_size = 0;   // encoder output side (64)
  InputNorm input_norm = InputNorm::MeanStd;
  // Side of the decoder's low-resolution mask frame (mask logits out, mask prompts in): 4x the embedding.
  int low_res_size() const { return 4 * image_embedding_size; }
};

// What a configuration is read from: the keys of a state_dict and their shapes. A Checkpoint (weight_shapes), or
// any key -> tensor lookup (ImageEncoderViT::WeightSource).
struct WeightShapes {
  std::string name;  // for error messages ("<name>: not a SAM checkpoint layout: ..."), e.g. the file
  std::function<bool(const std::string&)> has;
  std::function<Shape(const std::string&)> shape;  // asked only for keys that `has`
};
WeightShapes weight_shapes(const Checkpoint& ckpt);

// Throws CheckpointError naming the expected keys when the layout is not SAM's.
SamConfig detect_sam_config(const Checkpoint& ckpt);
SamConfig detect_sam_config(const WeightShapes& source);
// The image encoder's configuration alone (weights under `prefix`), as detect_sam_config reads it.
VitConfig detect_vit_config(const WeightShapes& source, const std::string& prefix = "image_encoder.");
VitConfig detect_vit_config(const Checkpoint& ckpt, const std::string& prefix = "image_encoder.");
TinyVitConfig detect_tiny_vit_config(const WeightShapes& source, const std::string& prefix = "image_encoder.");
TinyVitConfig detect_tiny_vit_config(const Checkpoint& ckpt, const std::string& prefix = "image_encoder.");

}  // namespace sammpa::sam
