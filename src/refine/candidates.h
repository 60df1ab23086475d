#pragma once
// SAM's own candidate masks over a whole image, for the ranked mode (ranker.h): a grid of single-point prompts
// (as SAM's automatic mode), points at the soft map's strongest peaks, and a box around each of the soft map's
// largest components, each giving SAM's three multimask outputs. Candidates are kept in the decoder's
// low-resolution frame without its padding (the "work frame", about a quarter of the image side for SAM) so
// that hundreds can be compared cheaply; only the one chosen is brought back to the image size.
#include <array>
#include <optional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "sam/predictor.h"

namespace sammpa {

struct CandidateOptions {
  // Cost: one decoder pass per prompt (about 17 ms on 2 idle cores), so 72 passes per image instead of SAM's
  // automatic 32 x 32. Measured on BUSI (K = 10, the first 188 benign queries; scripts/analyze_ranked_dump.py):
  // the best candidate's Dice (the bound for any ranker) is 0.80 with this 8 x 8 grid, 0.65 without a grid.
  int grid = 8;             // grid x grid point prompts over the image (0: none)
  // Grid points whose cell's soft map stays below this are skipped (0: every grid point is prompted).
  float grid_min_soft = 0.f;
  int soft_peaks = 6;       // points at the soft map's strongest local maxima (above 0.3)
  int soft_boxes = 2;       // boxes around the soft map's largest components (soft >= 0.5)
  // Boxes centred on a box_grid x box_grid grid, each of every size in box_sizes (a fraction of the image's
  // longer side) and aspect (width / height) in box_aspects: for box-trained models such as LiteMedSAM, whose
  // answers to single points are weak (0: none). The sizes and aspects are those measured on BUSI
  // (docs/RESULTS.md, "Candidates from boxes, pruned grids and LiteMedSAM").
  int box_grid = 0;
  std::vector<double> box_sizes = {0.15, 0.25, 0.4};
  std::vector<double> box_aspects = {1.0, 1.6};
  float min_iou = 0.5f;     // SAM's predicted IoU below this: dropped
  double min_area = 0.0005;  // fraction of the image
  double max_area = 0.6;
  double nms_iou = 0.85;    // near-duplicates (IoU above this): the higher predicted IoU is kept
};

struct MaskCandidate {
  cv::Mat mask;        // CV_8UC1 0/255 in the work frame
  float iou = 0;       // SAM's predicted IoU
  float stability = 0;  // area(logits > 1) / area(logits > -1), as SAM's automatic mode
  std::string source;  // "grid", "peak" or "box", with the output index
  std::array<float, 2> point{};  // the point prompt (image pixels)
  std::optional<std::array<float, 4>> box;
  sam::Tensor low_res;  // [1, 1, S, S] decoder logits, to bring the mask to the image size
  int model = 0;  // which checkpoint proposed it: 0 the run's, 1 the ranked mode's extra one (ranked.h)
};

// The work frame's size for an embedding (the unpadded part of the decoder's low-resolution frame).
cv::Size work_size(const sam::ImageFrame& frame);
// An image-sized map (mask 0/255, soft map or grey image) resized to the work frame (area averaging), as float.
cv::Mat to_work_frame(const cv::Mat& image_sized, const sam::ImageFrame& frame);
// A candidate's mask at the image's size (CV_8UC1 0/255).
cv::Mat candidate_to_image(const MaskCandidate& candidate, const sam::ImageFrame& frame);

// The box-grid prompts (x0, y0, x1, y1 in image pixels) of options.box_grid, box_sizes and box_aspects for a
// width x height image: grid cells in row order, each with every size, then every aspect; clipped to the image.
std::vector<std::array<float, 4>> grid_boxes(int width, int height, const CandidateOptions& options);

// soft_work: the soft map in [0, 1] in the work frame (to_work_frame), or empty (no peaks or boxes then).
std::vector<MaskCandidate> generate_candidates(const sam::SamPredictor& predictor, const cv::Mat& soft_work,
                                               const CandidateOptions& options);

// One more decoder pass for a chosen candidate: its bounding box, its deepest point and its own logits as the
// mask prompt, SAM's single-mask output (the round the prompt-based refinement also offers).
MaskCandidate refine_candidate(const sam::SamPredictor& predictor, const MaskCandidate& candidate);

// The decoder's single-mask answer to one box (x0, y0, x1, y1 in image pixels) alone: the prompt box-trained
// models such as LiteMedSAM were trained on. Source "box_prompt".
MaskCandidate box_candidate(const sam::SamPredictor& predictor, const std::array<float, 4>& box);

}  // namespace sammpa
