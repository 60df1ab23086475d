#pragma once
// "Segment everything": every object SAM finds in an image, as the official SamAutomaticMaskGenerator does
// (segment_anything/automatic_mask_generator.py, without crop layers): a grid of one-point prompts, three masks
// each, kept when the predicted IoU and the stability score (the IoU of the mask binarised at logit +1 and -1)
// pass their thresholds, duplicates removed by non-maximum suppression of the masks' boxes. The prompts go
// through the decoder in batches, and only the masks that pass the IoU filter are upscaled to the image.
#include <array>
#include <opencv2/core.hpp>
#include <vector>

#include "sam/predictor.h"

namespace sammpa::sam {

struct AutomaticMaskOptions {  // the official defaults
  int points_per_side = 32;
  int points_per_batch = 64;
  float pred_iou_thresh = 0.88f;
  float stability_score_thresh = 0.95f;
  float stability_score_offset = 1.0f;
  float box_nms_thresh = 0.7f;
};

struct AutomaticMask {
  cv::Mat mask;                 // CV_8UC1 0/255 at the image's size
  std::array<int, 4> bbox{};    // x, y, width, height (the official "bbox": XYWH of the inclusive box)
  int area = 0;
  float predicted_iou = 0, stability_score = 0;
  std::array<float, 2> point{};  // the prompt that gave it, in image pixels
};

// The predictor holds the image (set_image or set_embedding). Masks in decreasing predicted IoU.
std::vector<AutomaticMask> generate_all_masks(const SamPredictor& predictor, const AutomaticMaskOptions& options = {});

}  // namespace sammpa::sam
