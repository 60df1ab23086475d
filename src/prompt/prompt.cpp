#include "prompt/prompt.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

namespace sammpa {

namespace {

cv::Mat soft_as_8u(const cv::Mat& soft, const cv::Mat& coarse) {
  if (soft.empty()) return coarse > 0;
  CV_Assert(soft.size() == coarse.size() && soft.channels() == 1);
  if (soft.depth() == CV_8U) return soft;
  cv::Mat out;
  soft.convertTo(out, CV_8U, 255.0);
  return out;
}

// The pixels at most r pixels (Euclidean) from the object. A distance transform, linear in the image's size:
// a dilation by a disc costs the image's size times the disc's height, minutes on a 3000 x 3000 X-ray.
cv::Mat within(const cv::Mat& object, int r) {
  cv::Mat dist;
  cv::distanceTransform(object == 0, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  return dist <= static_cast<float>(r);
}

}  // namespace

std::vector<ObjectPrompt> make_prompts(const cv::Mat& coarse, const cv::Mat& soft, const PromptOptions& o) {
  CV_Assert(coarse.type() == CV_8UC1);
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(coarse > 0, labels, stats, centroids, 8, CV_32S);
  std::vector<int> ids;
  int largest = 0;
  for (int i = 1; i < n; ++i) largest = std::max(largest, stats.at<int>(i, cv::CC_STAT_AREA));
  const double floor = std::max(o.min_object_area * coarse.total(), o.min_object_fraction * largest);
  for (int i = 1; i < n; ++i)
    if (stats.at<int>(i, cv::CC_STAT_AREA) >= std::max(1.0, floor)) ids.push_back(i);
  std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) {
    return stats.at<int>(a, cv::CC_STAT_AREA) > stats.at<int>(b, cv::CC_STAT_AREA);
  });
  if (static_cast<int>(ids.size()) > o.max_objects) ids.resize(std::max(0, o.max_objects));
  // Objects in reading order of their boxes (top-left first), independent of label numbering.
  std::sort(ids.begin(), ids.end(), [&](int a, int b) {
    auto ka = std::make_pair(stats.at<int>(a, cv::CC_STAT_LEFT), stats.at<int>(a, cv::CC_STAT_TOP));
    auto kb = std::make_pair(stats.at<int>(b, cv::CC_STAT_LEFT), stats.at<int>(b, cv::CC_STAT_TOP));
    return ka < kb;
  });

  const cv::Mat soft8 = o.mask ? soft_as_8u(soft, coarse) : cv::Mat();
  const float W = static_cast<float>(coarse.cols), H = static_cast<float>(coarse.rows);
  std::vector<ObjectPrompt> out;
  for (int id : ids) {
    ObjectPrompt p;
    p.bbox = {stats.at<int>(id, cv::CC_STAT_LEFT), stats.at<int>(id, cv::CC_STAT_TOP),
              stats.at<int>(id, cv::CC_STAT_WIDTH), stats.at<int>(id, cv::CC_STAT_HEIGHT)};
    p.area = stats.at<int>(id, cv::CC_STAT_AREA);
    p.object = labels == id;
    const float mx = static_cast<float>(o.box_margin * p.bbox.width),
                my = static_cast<float>(o.box_margin * p.bbox.height);
    p.box = {std::max(0.f, p.bbox.x - mx), std::max(0.f, p.bbox.y - my),
             std::min(W, static_cast<float>(p.bbox.br().x) + mx), std::min(H, static_cast<float>(p.bbox.br().y) + my)};
    if (o.positive) {
      cv::Point c = deepest_point(p.object);
      p.points.push_back({c.x + 0.5f, c.y + 0.5f});
      p.labels.push_back(1);
    }
    if (o.negative) {
      // The expanded box's corner pixels, kept only where the coarse mask (any object) is empty.
      const int x0 = static_cast<int>(p.box[0]), y0 = static_cast<int>(p.box[1]);
      const int x1 = std::max(x0, static_cast<int>(std::ceil(p.box[2])) - 1),
                y1 = std::max(y0, static_cast<int>(std::ceil(p.box[3])) - 1);
      for (cv::Point c : {cv::Point(x0, y0), cv::Point(x1, y0), cv::Point(x0, y1), cv::Point(x1, y1)})
        if (coarse.at<uchar>(c) == 0) {
          p.points.push_back({c.x + 0.5f, c.y + 0.5f});
          p.labels.push_back(0);
        }
    }
    if (o.mask) {
      // The soft map near this object only: other objects' evidence would pull SAM towards them.
      const int r = std::max(1, static_cast<int>(o.mask_region * std::max(p.bbox.width, p.bbox.height) + 0.5));
      p.mask_prompt = cv::Mat::zeros(coarse.size(), CV_8UC1);
      soft8.copyTo(p.mask_prompt, within(p.object, r));
    }
    out.push_back(std::move(p));
  }
  return out;
}

nlohmann::json to_json(const PromptOptions& o) {
  return {{"box", o.box},
          {"positive", o.positive},
          {"negative", o.negative},
          {"mask", o.mask},
          {"box_margin", o.box_margin},
          {"min_object_area", o.min_object_area},
          {"min_object_fraction", o.min_object_fraction},
          {"max_objects", o.max_objects},
          {"mask_logit_scale", o.mask_logit_scale},
          {"mask_region", o.mask_region}};
}

nlohmann::json prompts_json(const std::vector<ObjectPrompt>& prompts, const PromptOptions& o) {
  nlohmann::json objects = nlohmann::json::array();
  for (const auto& p : prompts) {
    nlohmann::json points = nlohmann::json::array();
    for (size_t i = 0; i < p.points.size(); ++i)
      points.push_back({{"x", p.points[i][0]}, {"y", p.points[i][1]}, {"label", p.labels[i]}});
    nlohmann::json obj = {{"area", p.area},
                          {"bbox", {p.bbox.x, p.bbox.y, p.bbox.x + p.bbox.width, p.bbox.y + p.bbox.height}},
                          {"points", points},
                          {"mask_prompt", o.mask}};
    if (o.box) obj["box"] = p.box;
    objects.push_back(std::move(obj));
  }
  return {{"objects", objects}};
}

cv::Point deepest_point(const cv::Mat& object) {
  cv::Mat padded, dist;
  cv::copyMakeBorder(object, padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, 0);
  cv::distanceTransform(padded, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  float best = -1.f;
  cv::Point at(0, 0);
  for (int y = 1; y < dist.rows - 1; ++y) {
    const float* row = dist.ptr<float>(y);
    for (int x = 1; x < dist.cols - 1; ++x)
      if (row[x] > best) best = row[x], at = {x - 1, y - 1};
  }
  return at;
}

}  // namespace sammpa
