#include "refine/candidates.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <opencv2/imgproc.hpp>

#include "prompt/prompt.h"
#include "sam/transforms.h"

namespace sammpa {

namespace {

// Bounding-box first, then pixels: most pairs of candidates do not overlap at all.
double mask_iou(const MaskCandidate& a, const MaskCandidate& b, const cv::Rect& ra, const cv::Rect& rb) {
  const cv::Rect inter = ra & rb;
  if (inter.empty()) return 0;
  const double i = cv::countNonZero(a.mask(inter) & b.mask(inter));
  const double u = cv::countNonZero(a.mask) + cv::countNonZero(b.mask) - i;
  return u > 0 ? i / u : 0;
}

// Up to n points at the soft map's maxima, each at least `spacing` work pixels from the others.
std::vector<cv::Point> soft_peaks(const cv::Mat& soft_work, int n, double spacing) {
  std::vector<cv::Point> peaks;
  cv::Mat s = soft_work.clone();
  for (int i = 0; i < n; ++i) {
    double mx;
    cv::Point at;
    cv::minMaxLoc(s, nullptr, &mx, nullptr, &at);
    if (mx < 0.3) break;
    peaks.push_back(at);
    cv::circle(s, at, static_cast<int>(spacing), cv::Scalar(0), cv::FILLED);
  }
  return peaks;
}

MaskCandidate candidate_from(const sam::DecoderOutput& out, int m, const cv::Size& ws) {
  const int64_t side = out.low_res_logits.dim(-1);
  const float* plane = out.low_res_logits.data() + m * side * side;
  cv::Mat logits(static_cast<int>(side), static_cast<int>(side), CV_32FC1, const_cast<float*>(plane));
  const cv::Mat valid = logits(cv::Rect(0, 0, std::min<int>(ws.width, side), std::min<int>(ws.height, side)));
  MaskCandidate c;
  c.mask = valid > 0.f;
  const double loose = cv::countNonZero(valid > -1.f), strict = cv::countNonZero(valid > 1.f);
  c.stability = loose > 0 ? static_cast<float>(strict / loose) : 0.f;
  c.iou = out.iou[m];
  c.low_res = sam::Tensor({1, 1, side, side});
  std::memcpy(c.low_res.data(), plane, static_cast<size_t>(side * side) * sizeof(float));
  return c;
}

}  // namespace

MaskCandidate refine_candidate(const sam::SamPredictor& predictor, const MaskCandidate& c) {
  const sam::ImageFrame& f = predictor.embedding().frame;
  const cv::Size ws = work_size(f);
  const double sx = static_cast<double>(f.orig_w) / ws.width, sy = static_cast<double>(f.orig_h) / ws.height;
  const cv::Rect r = cv::boundingRect(c.mask);
  const cv::Point deepest = deepest_point(c.mask);
  sam::PromptSet ps;
  ps.points = {{static_cast<float>((deepest.x + 0.5) * sx), static_cast<float>((deepest.y + 0.5) * sy)}};
  ps.labels = {1};
  ps.box = std::array<float, 4>{static_cast<float>(r.x * sx), static_cast<float>(r.y * sy),
                                static_cast<float>((r.x + r.width) * sx), static_cast<float>((r.y + r.height) * sy)};
  ps.mask_input = c.low_res;
  MaskCandidate out = candidate_from(predictor.predict_low_res(ps, sam::MaskOutput::single), 0, ws);
  out.source = c.source + "+round";
  out.point = ps.points[0];
  out.box = ps.box;
  return out;
}

MaskCandidate box_candidate(const sam::SamPredictor& predictor, const std::array<float, 4>& box) {
  sam::PromptSet ps;
  ps.box = box;
  MaskCandidate out = candidate_from(predictor.predict_low_res(ps, sam::MaskOutput::single), 0,
                                     work_size(predictor.embedding().frame));
  out.source = "box_prompt";
  out.point = {(box[0] + box[2]) / 2, (box[1] + box[3]) / 2};
  out.box = box;
  return out;
}

cv::Size work_size(const sam::ImageFrame& f) {
  const double ratio = static_cast<double>(f.target) / f.low_res_side();
  return {std::max(1, static_cast<int>(f.input_w / ratio + 0.5)),
          std::max(1, static_cast<int>(f.input_h / ratio + 0.5))};
}

cv::Mat to_work_frame(const cv::Mat& m, const sam::ImageFrame& f) {
  cv::Mat g = m;
  if (g.channels() == 3) cv::cvtColor(g, g, cv::COLOR_RGB2GRAY);
  cv::Mat fl;
  g.convertTo(fl, CV_32F);
  cv::Mat out;
  cv::resize(fl, out, work_size(f), 0, 0, cv::INTER_AREA);
  return out;
}

cv::Mat candidate_to_image(const MaskCandidate& c, const sam::ImageFrame& f) {
  sam::Tensor up = sam::upscale_mask_logits(c.low_res, f);
  cv::Mat plane(f.orig_h, f.orig_w, CV_32FC1, up.data());
  cv::Mat bin;
  cv::compare(plane, 0.f, bin, cv::CMP_GT);
  return bin;
}

std::vector<std::array<float, 4>> grid_boxes(int width, int height, const CandidateOptions& o) {
  const double side = std::max(width, height);
  std::vector<std::array<float, 4>> boxes;
  for (int gy = 0; gy < o.box_grid; ++gy)
    for (int gx = 0; gx < o.box_grid; ++gx) {
      const double cx = (gx + 0.5) * width / o.box_grid, cy = (gy + 0.5) * height / o.box_grid;
      for (double size : o.box_sizes)
        for (double aspect : o.box_aspects) {
          const double hw = 0.5 * size * side * std::sqrt(aspect), hh = 0.5 * size * side / std::sqrt(aspect);
          boxes.push_back({static_cast<float>(std::max(0.0, cx - hw)), static_cast<float>(std::max(0.0, cy - hh)),
                           static_cast<float>(std::min<double>(width, cx + hw)),
                           static_cast<float>(std::min<double>(height, cy + hh))});
        }
    }
  return boxes;
}

std::vector<MaskCandidate> generate_candidates(const sam::SamPredictor& predictor, const cv::Mat& sw,
                                               const CandidateOptions& o) {
  const sam::ImageFrame& f = predictor.embedding().frame;
  const cv::Size ws = work_size(f);
  const double sx = static_cast<double>(f.orig_w) / ws.width, sy = static_cast<double>(f.orig_h) / ws.height;
  const double work_area = static_cast<double>(ws.area());
  // Every prompt first, then one batched decoder pass over all of them (4 masks per prompt).
  std::vector<sam::PromptSet> prompts;
  std::vector<std::pair<std::string, std::array<float, 2>>> origin;  // source and point of each prompt
  auto add_prompt = [&](const sam::PromptSet& ps, const std::string& source, std::array<float, 2> point) {
    prompts.push_back(ps);
    origin.emplace_back(source, point);
  };
  for (int gy = 0; gy < o.grid; ++gy)
    for (int gx = 0; gx < o.grid; ++gx) {
      if (o.grid_min_soft > 0 && !sw.empty()) {
        // The cell in the work frame, at least one pixel even when the grid is finer than the frame.
        const int x0 = std::min(gx * sw.cols / o.grid, sw.cols - 1);
        const int y0 = std::min(gy * sw.rows / o.grid, sw.rows - 1);
        const int x1 = std::max(x0 + 1, (gx + 1) * sw.cols / o.grid);
        const int y1 = std::max(y0 + 1, (gy + 1) * sw.rows / o.grid);
        double cell_max = 0;
        cv::minMaxLoc(sw(cv::Rect(x0, y0, x1 - x0, y1 - y0)), nullptr, &cell_max);
        if (cell_max < o.grid_min_soft) continue;
      }
      sam::PromptSet ps;
      ps.points = {{static_cast<float>((gx + 0.5) * f.orig_w / o.grid),
                    static_cast<float>((gy + 0.5) * f.orig_h / o.grid)}};
      ps.labels = {1};
      add_prompt(ps, "grid", ps.points[0]);
    }
  for (const std::array<float, 4>& b : grid_boxes(f.orig_w, f.orig_h, o)) {
    sam::PromptSet ps;
    ps.box = b;
    add_prompt(ps, "boxgrid", {0.5f * (b[0] + b[2]), 0.5f * (b[1] + b[3])});
  }
  if (!sw.empty()) {
    for (const cv::Point& p : soft_peaks(sw, o.soft_peaks, std::max(ws.width, ws.height) / 16.0)) {
      sam::PromptSet ps;
      ps.points = {{static_cast<float>((p.x + 0.5) * sx), static_cast<float>((p.y + 0.5) * sy)}};
      ps.labels = {1};
      add_prompt(ps, "peak", ps.points[0]);
    }
    cv::Mat labels, stats, centroids;
    const cv::Mat on = sw >= 0.5f;
    const int n = cv::connectedComponentsWithStats(on, labels, stats, centroids, 8);
    std::vector<int> order;
    for (int i = 1; i < n; ++i) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
      return stats.at<int>(a, cv::CC_STAT_AREA) > stats.at<int>(b, cv::CC_STAT_AREA);
    });
    for (size_t i = 0; i < order.size() && static_cast<int>(i) < o.soft_boxes; ++i) {
      const int c = order[i];
      const double x0 = stats.at<int>(c, cv::CC_STAT_LEFT), y0 = stats.at<int>(c, cv::CC_STAT_TOP);
      const double x1 = x0 + stats.at<int>(c, cv::CC_STAT_WIDTH), y1 = y0 + stats.at<int>(c, cv::CC_STAT_HEIGHT);
      sam::PromptSet ps;
      ps.box = std::array<float, 4>{static_cast<float>(x0 * sx), static_cast<float>(y0 * sy),
                                    static_cast<float>(x1 * sx), static_cast<float>(y1 * sy)};
      const std::array<float, 2> centre{static_cast<float>(centroids.at<double>(c, 0) * sx),
                                        static_cast<float>(centroids.at<double>(c, 1) * sy)};
      add_prompt(ps, "box", centre);
    }
  }
  const std::vector<sam::DecoderOutput> outs = predictor.predict_low_res_batch(prompts, sam::MaskOutput::all);
  std::vector<MaskCandidate> all;
  for (size_t i = 0; i < outs.size(); ++i)
    for (size_t m = 0; m < outs[i].iou.size(); ++m) {
      if (outs[i].iou[m] < o.min_iou) continue;
      MaskCandidate c = candidate_from(outs[i], static_cast<int>(m), ws);
      const double area = cv::countNonZero(c.mask);
      if (area < o.min_area * work_area || area > o.max_area * work_area) continue;
      c.source = origin[i].first + std::to_string(m);
      c.point = origin[i].second;
      c.box = prompts[i].box;
      all.push_back(std::move(c));
    }
  // Non-maximum suppression by predicted IoU (stable order: ties keep the earlier prompt).
  std::vector<size_t> order(all.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return all[a].iou > all[b].iou; });
  std::vector<cv::Rect> rects(all.size());
  for (size_t i = 0; i < all.size(); ++i) rects[i] = cv::boundingRect(all[i].mask);
  std::vector<MaskCandidate> kept;
  std::vector<size_t> kept_index;
  for (size_t i : order) {
    bool duplicate = false;
    for (size_t j : kept_index) duplicate = duplicate || mask_iou(all[i], all[j], rects[i], rects[j]) > o.nms_iou;
    if (duplicate) continue;
    kept_index.push_back(i);
  }
  for (size_t i : kept_index) kept.push_back(std::move(all[i]));
  return kept;
}

}  // namespace sammpa
