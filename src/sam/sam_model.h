#pragma once
// A whole Segment Anything Model loaded from an official checkpoint (SAM ViT-B/L/H, MedSAM, MobileSAM, LiteMedSAM): the
// variant is detected from the weights, the image encoder (ViT or TinyViT) and the prompt encoder + mask decoder
// are built on the memory-mapped weights. Like the official Sam module; SamPredictor adds pre/post-processing.
#include <filesystem>
#include <memory>

#include "sam/checkpoint/model_config.h"
#include "sam/decoder/mask_decoder.h"
#include "sam/decoder/prompt_encoder.h"
#include "sam/nn/tensor.h"

namespace sammpa::sam {

// The checkpoint to use when none is given: $SAMMPA_CHECKPOINT, else the MobileSAM checkpoint cached by
// scripts/fetch_mobile_sam.sh (~/.cache/sammpa/mobile_sam.pt, or $SAMMPA_CACHE/mobile_sam.pt). InputError
// saying how to get one when neither exists.
std::filesystem::path default_checkpoint();

// Where scripts/fetch_*.sh keep the checkpoints: $SAMMPA_CACHE, else ~/.cache/sammpa (empty when neither that
// variable nor HOME is set).
std::filesystem::path checkpoint_cache();

class SamModel {
 public:
  // Throws CheckpointError (an InputError) naming the file and the problem.
  static std::shared_ptr<const SamModel> load(const std::filesystem::path& checkpoint);

  const SamConfig& config() const { return config_; }
  const std::filesystem::path& checkpoint_path() const { return path_; }
  // The input side the prompt encoder scales prompt coordinates by (config().image_size).
  int decoder_input_size() const { return decoder_->prompt_encoder().input_image_size(); }

  // [1, 3, S, S] normalised and padded image (S = config().image_size) -> [1, C, 64, 64] image embedding.
  Tensor encode(const Tensor& input) const;
  // Prompts in the input frame (S x S); low-res logits [1, M, 256, 256] and M predicted IoUs.
  DecoderOutput decode(const Tensor& image_embedding, const Prompts& prompts, MaskOutput which) const;
  DecoderOutput decode(const Tensor& image_embedding, const Prompts& prompts, bool multimask) const {
    return decode(image_embedding, prompts, multimask ? MaskOutput::multimask : MaskOutput::single);
  }
  // The decoder's share of the work on one embedding, done once for any number of prompt rounds on it.
  SamPromptDecoder::PreparedImage prepare_decode(const Tensor& image_embedding) const {
    return decoder_->prepare(image_embedding);
  }
  DecoderOutput decode(const SamPromptDecoder::PreparedImage& image, const Prompts& prompts, MaskOutput which) const {
    return decoder_->predict(image, prompts, which);
  }
  std::vector<DecoderOutput> decode_batch(const SamPromptDecoder::PreparedImage& image,
                                          const std::vector<Prompts>& prompts, MaskOutput which) const {
    return decoder_->predict_batch(image, prompts, which);
  }
  // Many prompts on one image through the decoder together (SamPromptDecoder::predict_batch).
  std::vector<DecoderOutput> decode_batch(const Tensor& image_embedding, const std::vector<Prompts>& prompts,
                                          MaskOutput which) const {
    return decoder_->predict_batch(image_embedding, prompts, which);
  }

 private:
  SamModel() = default;
  struct Encoder;
  SamConfig config_;
  std::filesystem::path path_;
  std::shared_ptr<const Encoder> encoder_;
  std::shared_ptr<const SamPromptDecoder> decoder_;
};

}  // namespace sammpa::sam
