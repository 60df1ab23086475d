#pragma once
// SamPredictor: SAM with its pre- and post-processing hidden, as the official predictor: set an image (or a
// saved embedding) once, then prompt it many times with points, a box and/or a mask, in the image's own
// pixel coordinates; masks come back at the image's original size.
#include <array>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <vector>

#include "sam/image_embedding.h"
#include "sam/sam_model.h"

namespace sammpa::sam {

struct PromptSet {
  std::vector<std::array<float, 2>> points;  // (x, y) in original pixels
  std::vector<int> labels;                   // 1 foreground, 0 background
  std::optional<std::array<float, 4>> box;   // x0, y0, x1, y1 in original pixels
  Tensor mask_input;                         // [1, 1, 256, 256] low-res logits, or empty
};

struct Prediction {
  Tensor logits;                // [M, H, W] at the original size
  std::vector<cv::Mat> masks;   // M masks, CV_8UC1 0/255 (logits > 0)
  std::vector<float> iou;       // M predicted IoUs
  Tensor low_res_logits;        // [1, M, 256, 256]: feed one back as PromptSet::mask_input
  int best() const;             // index of the highest predicted IoU
};

class SamPredictor {
 public:
  explicit SamPredictor(std::shared_ptr<const SamModel> model);

  void set_image(const cv::Mat& image);  // 8-bit grey or RGB; runs the image encoder
  void set_embedding(ImageEmbedding embedding);  // InputError if it came from another model type
  const ImageEmbedding& embedding() const { return embedding_; }
  bool has_image() const { return !embedding_.features.empty(); }
  void reset_image() {
    embedding_ = ImageEmbedding();
    decoder_image_ = {};
  }
  const SamModel& model() const { return *model_; }

  Prediction predict(const PromptSet& prompts, MaskOutput which) const;
  // The decoder's output alone, in its low-resolution frame (no upscaling to the image): for callers that look
  // at many candidates and upscale only the ones they keep.
  DecoderOutput predict_low_res(const PromptSet& prompts, MaskOutput which) const;
  // Many prompts at once, one output each (the decoder runs them as batches: faster per prompt).
  std::vector<DecoderOutput> predict_low_res_batch(const std::vector<PromptSet>& prompts, MaskOutput which) const;
  Prediction predict(const PromptSet& prompts, bool multimask) const {
    return predict(prompts, multimask ? MaskOutput::multimask : MaskOutput::single);
  }

 private:
  Prompts to_input_frame(const PromptSet& prompts) const;  // image pixels to the decoder's input frame
  std::shared_ptr<const SamModel> model_;
  ImageEmbedding embedding_;
  // embedding_ with the decoder's work on it that every prompt round shares (done at the first round)
  SamPromptDecoder::PreparedImage decoder_image_;
};

// One low-res mask logits plane [1, 1, 256, 256] taken from a prediction (index m), for re-prompting.
Tensor select_low_res(const Tensor& low_res_logits, int m);

// A mask at the image's original size (CV_8UC1; 0/255 binary or a 0-255 probability map) as a mask prompt:
// resized into the model's 256x256 low-resolution frame (padding outside the image) and mapped to logits
// (probability p -> scale * (2p - 1); padding -> -scale). SAM was trained with its own logits as mask
// prompts; `scale` sets how confident the prompt looks.
Tensor mask_to_prompt_logits(const cv::Mat& mask, const ImageFrame& frame, float scale = 10.f);

}  // namespace sammpa::sam
