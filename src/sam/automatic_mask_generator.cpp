#include "sam/automatic_mask_generator.h"

#include <algorithm>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "sam/transforms.h"

namespace sammpa::sam {

namespace {

struct Box {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // inclusive pixel bounds; all 0 for an empty mask (as the official code)
};

Box box_of(const cv::Mat& mask) {
  const cv::Rect r = cv::boundingRect(mask);
  if (r.area() == 0) return {};
  return {r.x, r.y, r.x + r.width - 1, r.y + r.height - 1};
}

// Box IoU as torchvision's nms computes it: corners as coordinates, area (x1 - x0) * (y1 - y0).
double box_iou(const Box& a, const Box& b) {
  const double iw = std::max(0, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  const double ih = std::max(0, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  const double inter = iw * ih;
  const double area_a = static_cast<double>(a.x1 - a.x0) * (a.y1 - a.y0);
  const double area_b = static_cast<double>(b.x1 - b.x0) * (b.y1 - b.y0);
  const double uni = area_a + area_b - inter;
  return uni > 0 ? inter / uni : 0.0;
}

}  // namespace

std::vector<AutomaticMask> generate_all_masks(const SamPredictor& predictor, const AutomaticMaskOptions& o) {
  if (!predictor.has_image()) throw std::logic_error("generate_all_masks before set_image");
  if (o.points_per_side < 1 || o.points_per_batch < 1)
    throw std::invalid_argument("generate_all_masks: points per side and per batch must be positive");
  const ImageFrame& f = predictor.embedding().frame;
  // Cell centres of an n x n grid over the image, row by row (build_point_grid).
  std::vector<std::array<float, 2>> points;
  const int n = o.points_per_side;
  for (int gy = 0; gy < n; ++gy)
    for (int gx = 0; gx < n; ++gx)
      points.push_back({static_cast<float>((0.5 + gx) / n * f.orig_w), static_cast<float>((0.5 + gy) / n * f.orig_h)});

  std::vector<AutomaticMask> found;
  std::vector<Box> boxes;
  for (size_t at = 0; at < points.size(); at += static_cast<size_t>(o.points_per_batch)) {
    std::vector<PromptSet> batch;
    for (size_t i = at; i < std::min(points.size(), at + static_cast<size_t>(o.points_per_batch)); ++i) {
      PromptSet p;
      p.points = {points[i]};
      p.labels = {1};
      batch.push_back(p);
    }
    const std::vector<DecoderOutput> outs = predictor.predict_low_res_batch(batch, MaskOutput::multimask);
    for (size_t b = 0; b < outs.size(); ++b)
      for (size_t m = 0; m < outs[b].iou.size(); ++m) {
        if (!(outs[b].iou[m] > o.pred_iou_thresh)) continue;
        const Tensor logits = upscale_mask_logits(select_low_res(outs[b].low_res_logits, static_cast<int>(m)), f);
        const cv::Mat plane(f.orig_h, f.orig_w, CV_32FC1, const_cast<float*>(logits.data()));
        const double inter = cv::countNonZero(plane > o.stability_score_offset);
        const double uni = cv::countNonZero(plane > -o.stability_score_offset);
        const float stability = uni > 0 ? static_cast<float>(inter / uni) : 1.f;  // both empty: 0/0 -> 1 (as torch)
        if (!(stability >= o.stability_score_thresh)) continue;
        AutomaticMask a;
        a.mask = plane > 0.f;
        a.area = cv::countNonZero(a.mask);
        a.predicted_iou = outs[b].iou[m];
        a.stability_score = stability;
        a.point = batch[b].points[0];
        boxes.push_back(box_of(a.mask));
        found.push_back(std::move(a));
      }
  }
  // Non-maximum suppression over the boxes, highest predicted IoU first.
  std::vector<size_t> order(found.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return found[a].predicted_iou > found[b].predicted_iou; });
  std::vector<size_t> kept;
  for (size_t i : order) {
    bool duplicate = false;
    for (size_t j : kept) duplicate = duplicate || box_iou(boxes[i], boxes[j]) > o.box_nms_thresh;
    if (!duplicate) kept.push_back(i);
  }
  std::vector<AutomaticMask> out;
  for (size_t i : kept) {
    AutomaticMask a = std::move(found[i]);
    const Box& bx = boxes[i];
    a.bbox = {bx.x0, bx.y0, bx.x1 - bx.x0, bx.y1 - bx.y0};
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace sammpa::sam
