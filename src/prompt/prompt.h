#pragma once
// Step 3 of SAM-MPA: SAM prompts derived from a query's coarse mask and soft map. Each object (a connected
// component of the coarse mask above a size floor: two lungs on a chest X-ray, usually one lesion on an
// ultrasound image) gets its own prompt set:
//   - a positive point at the object's interior point farthest from its boundary,
//   - the object's bounding box expanded by a margin (clipped to the image),
//   - negative points at the expanded box's corners that lie outside the coarse mask,
//   - the soft map near the object as SAM's mask prompt (logits in SAM's 256x256 low-resolution frame).
// Every element can be switched off and every constant is an option, for the ablation.
#include <array>
#include <opencv2/core.hpp>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sammpa {

struct PromptOptions {
  bool box = true;
  bool positive = true;
  bool negative = true;
  bool mask = true;              // the soft map as mask prompt
  double box_margin = 0.1;       // each side moves out by this fraction of the box's width / height
  double min_object_area = 0.001;      // size floor, as a fraction of the image area
  double min_object_fraction = 0.1;    // ... and as a fraction of the largest object's area
  int max_objects = 8;                 // the largest ones are kept
  float mask_logit_scale = 10.f;       // soft map p -> scale * (2p - 1) logits
  double mask_region = 0.1;            // the mask prompt keeps the soft map within this fraction of the
                                       // object's size around it (other objects are left out)
};

struct ObjectPrompt {
  cv::Rect bbox;                             // the object's own bounding box (pixels)
  std::array<float, 4> box{};                // expanded box x0, y0, x1, y1 (pixel edges, clipped to the image)
  std::vector<std::array<float, 2>> points;  // (x, y) pixel centres
  std::vector<int> labels;                   // 1 positive, 0 negative
  cv::Mat object;                            // CV_8UC1 0/255: the object's pixels in the coarse mask
  cv::Mat mask_prompt;                       // CV_8UC1 0-255 soft map near the object (empty if options.mask off)
  int area = 0;
};

// coarse: CV_8UC1 (non-zero = object); soft: CV_32FC1 in [0, 1] or CV_8UC1 0-255 of the same size, or empty (the
// coarse mask is used). An empty coarse mask gives no prompt.
std::vector<ObjectPrompt> make_prompts(const cv::Mat& coarse, const cv::Mat& soft, const PromptOptions& options);

// The interior pixel farthest from the object's boundary (the image border counts as boundary); ties go to
// the first in raster order, so the result is deterministic.
cv::Point deepest_point(const cv::Mat& object);

nlohmann::json prompts_json(const std::vector<ObjectPrompt>& prompts, const PromptOptions& options);
nlohmann::json to_json(const PromptOptions& options);

}  // namespace sammpa
