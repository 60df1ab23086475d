#pragma once
// SAM's pre- and post-processing (LiteMedSAM's variant: preprocess_image_minmax), as the official predictor does it:
// the longest side resized to 1024 (PIL's
// antialiased bilinear filter, reproduced bit for bit on 8-bit images), pixel mean/std normalisation, zero
// padding to a square; prompt coordinates scaled into that frame; low-resolution mask logits upscaled back to
// the image's original size (bilinear, align_corners=False, as torch.nn.functional.interpolate).
#include <array>
#include <opencv2/core.hpp>

#include "sam/nn/tensor.h"

namespace sammpa::sam {

// Sizes of one image through the model: original (H, W) and resized-before-padding input (H, W).
struct ImageFrame {
  int orig_h = 0, orig_w = 0;
  int input_h = 0, input_w = 0;
  int target = 1024;  // side of the padded square the encoder sees
  // Side of the decoder's low-resolution mask frame (4x the embedding grid): 256 for every official model,
  // also LiteMedSAM whose target is 256. 0 means target / 4 (SAM's 16x16 patches; frames saved before this
  // field existed).
  int low_res = 0;
  int low_res_side() const { return low_res > 0 ? low_res : target / 4; }
};

ImageFrame make_frame(int orig_h, int orig_w, int target = 1024, int low_res = 0);

// PIL.Image.resize(..., BILINEAR) on 8-bit images (1 or 3 channels), identical to Pillow 9's fixed-point code.
cv::Mat resize_pil_bilinear(const cv::Mat& image, int out_w, int out_h);

// The encoder input [1, 3, target, target]: RGB (grey is repeated to 3 channels) resized to the frame's input
// size, normalised with SAM's pixel mean/std, zero-padded at the bottom and right.
Tensor preprocess_image(const cv::Mat& image, const ImageFrame& frame);

// LiteMedSAM's encoder input [1, 3, target, target]: RGB (grey repeated) resized to the frame's input size with
// OpenCV's INTER_AREA, scaled to [0, 1] by the resized image's own minimum and maximum (over all channels;
// (v - min) / max(max - min, 1e-8)), zero-padded at the bottom and right (the official LiteMedSAM inference).
Tensor preprocess_image_minmax(const cv::Mat& image, const ImageFrame& frame);

// A point (x, y) in original pixels to the model's input frame.
std::array<float, 2> to_input_coords(float x, float y, const ImageFrame& frame);

// Low-resolution logits [1, M, 256, 256] to logits at the original size [1, M, orig_h, orig_w]: upscale to the
// padded square, crop the padding, upscale to the original size (only the needed region is computed).
Tensor upscale_mask_logits(const Tensor& low_res, const ImageFrame& frame);

// Bilinear resize of one float plane as F.interpolate(align_corners=False) would produce it, computing only the
// top-left out_rows x out_cols block of the full out_h x out_w result.
void resize_plane_bilinear(const float* src, int src_h, int src_w, float* dst, int out_h, int out_w, int out_rows,
                           int out_cols);

}  // namespace sammpa::sam
