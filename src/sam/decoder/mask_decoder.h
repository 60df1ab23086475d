#pragma once
// SAM's MaskDecoder (segment_anything/modeling/mask_decoder.py; MobileSAM uses the same): a TwoWayTransformer
// over output + prompt tokens and the image embedding, transposed-convolution upscaling, hypernetwork MLPs that
// turn each mask token into weights for the upscaled embedding, and an IoU prediction head. Plus
// SamPromptDecoder, which wires the PromptEncoder to it.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sam/checkpoint/checkpoint.h"
#include "sam/decoder/prompt_encoder.h"
#include "sam/decoder/two_way_transformer.h"
#include "sam/nn/tensor.h"

namespace sammpa::sam {

// Which of the decoder's masks to return: token 0 (the official multimask_output=False), tokens 1..3
// (multimask_output=True), or all four from one pass (the refinement scores every candidate).
enum class MaskOutput { single, multimask, all };

struct DecoderOutput {
  Tensor low_res_logits;  // [1, M, 4h, 4w] (256 x 256 for SAM); M = 3 with multimask output, else 1
  std::vector<float> iou;  // M predicted IoUs, in the order of the masks
};

class MaskUpscaling;

class MaskDecoder {
 public:
  // Dims (transformer width and depth, number of mask tokens, MLP sizes) come from the weights' shapes; the head
  // count is not stored in checkpoints (8 in every official model).
  explicit MaskDecoder(const Checkpoint& ckpt, const std::string& prefix = "mask_decoder.", int num_heads = 8);

  // image_embeddings, image_pe, dense: [1, C, h, w]; sparse: [1, N, C] (N may be 0). multimask: the masks of
  // tokens 1..3 (the official forward's multimask_output=True), else the single-mask token 0.
  DecoderOutput run(const Tensor& image_embeddings, const Tensor& image_pe, const Tensor& sparse,
                    const Tensor& dense, MaskOutput which) const;
  DecoderOutput run(const Tensor& image_embeddings, const Tensor& image_pe, const Tensor& sparse,
                    const Tensor& dense, bool multimask) const {
    return run(image_embeddings, image_pe, sparse, dense, multimask ? MaskOutput::multimask : MaskOutput::single);
  }

  // Several prompts on one image at once (the official decoder's batch of prompts): sparse[i] as in run(), all
  // with the same number of tokens N, and the same dense prompt. One output per prompt, equal to run()'s.
  std::vector<DecoderOutput> run_batch(const Tensor& image_embeddings, const Tensor& image_pe,
                                       const std::vector<Tensor>& sparse, const Tensor& dense, MaskOutput which) const;

  // The image's side of the decoder for one dense prompt (image_embeddings + dense as tokens, the positional
  // encoding, the first block's projections): prepare once, then run any number of batches on it.
  struct Image {
    int64_t h = 0, w = 0;
    TwoWayTransformer::ImageSide side;
  };
  Image prepare(const Tensor& image_embeddings, const Tensor& image_pe, const Tensor& dense) const;
  std::vector<DecoderOutput> run_batch(const Image& image, const std::vector<Tensor>& sparse, MaskOutput which) const;

  int64_t transformer_dim() const { return transformer_.embedding_dim(); }
  int num_mask_tokens() const { return static_cast<int>(mask_tokens_.dim(0)); }

 private:
  struct Mlp {
    std::vector<Tensor> w, b;  // ReLU after every layer but the last
    Tensor forward(const Tensor& x) const;
  };
  static Mlp load_mlp(const Checkpoint& ckpt, const std::string& prefix);

  Checkpoint ckpt_;  // keeps the weight views valid
  TwoWayTransformer transformer_;
  Tensor iou_token_, mask_tokens_;
  Tensor up1_w_, up1_b_, up_norm_w_, up_norm_b_, up2_w_, up2_b_;
  // The upscaling's primitives for one embedding grid width, built on first use (shared by copies).
  struct Upscalings {
    std::mutex mutex;
    std::map<int64_t, std::shared_ptr<const MaskUpscaling>> by_width;
  };
  std::shared_ptr<Upscalings> upscalings_ = std::make_shared<Upscalings>();
  const MaskUpscaling& upscaling(int64_t width) const;
  std::vector<Mlp> hypernetworks_;
  Mlp iou_head_;
};

// Prompt encoder + mask decoder of one checkpoint: prompts and an image embedding in, low-res logits out.
class SamPromptDecoder {
 public:
  // The embedding grid and input sizes are not stored in checkpoints: 64 and 1024 for SAM / MobileSAM / MedSAM,
  // 64 and 256 for LiteMedSAM (SamConfig::image_embedding_size / image_size); nor is the mask decoder's head
  // count (MaskDecoderConfig::num_heads, 8 in every official model).
  explicit SamPromptDecoder(const Checkpoint& ckpt, int image_embedding_size = 64, int input_image_size = 1024,
                            int num_heads = 8);

  // An image embedding with the decoder's work on it that every prompt without a mask input shares
  // (MaskDecoder::Image), done at the first such prompt and kept: a caller with several rounds of prompts on one
  // image prepares it once. Copies share that work.
  struct PreparedImage {
    Tensor embeddings;  // [1, C, 64, 64]
    struct NoMask {
      std::once_flag once;
      MaskDecoder::Image image;  // with the no-mask dense embedding
    };
    std::shared_ptr<NoMask> no_mask = std::make_shared<NoMask>();
  };
  PreparedImage prepare(const Tensor& image_embeddings) const { return {image_embeddings}; }
  DecoderOutput predict(const PreparedImage& image, const Prompts& prompts, MaskOutput which) const;
  std::vector<DecoderOutput> predict_batch(const PreparedImage& image, const std::vector<Prompts>& prompts,
                                           MaskOutput which, int chunk = 16) const;

  // image_embeddings [1, C, 64, 64] from the image encoder.
  DecoderOutput predict(const Tensor& image_embeddings, const Prompts& prompts, MaskOutput which) const;
  DecoderOutput predict(const Tensor& image_embeddings, const Prompts& prompts, bool multimask) const {
    return predict(image_embeddings, prompts, multimask ? MaskOutput::multimask : MaskOutput::single);
  }

  // Many prompts on one image: those without a mask input that have the same number of tokens go through the
  // decoder together, in chunks of at most `chunk` (memory grows by about 4 MB per prompt of a chunk).
  std::vector<DecoderOutput> predict_batch(const Tensor& image_embeddings, const std::vector<Prompts>& prompts,
                                           MaskOutput which, int chunk = 16) const;

  const PromptEncoder& prompt_encoder() const { return prompt_encoder_; }
  const MaskDecoder& mask_decoder() const { return mask_decoder_; }

 private:
  const MaskDecoder::Image& no_mask_image(const PreparedImage& image) const;
  PromptEncoder prompt_encoder_;
  MaskDecoder mask_decoder_;
};

}  // namespace sammpa::sam
