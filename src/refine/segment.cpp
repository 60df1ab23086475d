#include "refine/segment.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

namespace sammpa {

namespace {

struct Pending {
  Candidate candidate;
  cv::Mat logits;        // CV_32FC1 at the image size (a copy)
  sam::Tensor low_res;   // [1, 1, 256, 256]
};

void collect(const sam::Prediction& p, const std::string& prefix, bool numbered, std::vector<Pending>& out) {
  for (size_t m = 0; m < p.masks.size(); ++m) {
    Pending c;
    c.candidate.mask = p.masks[m];
    c.candidate.iou = p.iou[m];
    c.candidate.source = numbered ? prefix + std::to_string(m) : prefix;
    const int h = p.masks[m].rows, w = p.masks[m].cols;
    c.logits = cv::Mat(h, w, CV_32FC1, const_cast<float*>(p.logits.data()) + m * h * w).clone();
    c.low_res = sam::select_low_res(p.low_res_logits, static_cast<int>(m));
    out.push_back(std::move(c));
  }
}

cv::Mat soft_as_float(const cv::Mat& soft, const cv::Mat& coarse) {
  cv::Mat f;
  if (soft.empty()) cv::Mat(coarse > 0).convertTo(f, CV_32F, 1.0 / 255.0);
  else if (soft.depth() == CV_8U) soft.convertTo(f, CV_32F, 1.0 / 255.0);
  else f = soft;
  return f;
}

// Mean of SAM's probability and the soft map, thresholded at 0.5.
cv::Mat average_with_soft(const cv::Mat& logits, const cv::Mat& soft) {
  cv::Mat prob;
  cv::exp(-logits, prob);
  prob = 1.0 / (1.0 + prob);
  cv::Mat mean = 0.5 * (prob + soft);
  return mean > 0.5;
}

ObjectResult segment_object(const sam::SamPredictor& predictor, const ObjectPrompt& op, const cv::Mat& soft,
                            const PromptOptions& po, const RefineOptions& ro) {
  ObjectResult r;
  r.prompt = op;
  sam::PromptSet ps;
  ps.points = op.points;
  ps.labels = op.labels;
  if (po.box) ps.box = op.box;
  if (po.mask)
    ps.mask_input = sam::mask_to_prompt_logits(op.mask_prompt, predictor.embedding().frame, po.mask_logit_scale);
  if ((ps.points.empty() && !ps.box && ps.mask_input.empty()) || (!ro.single && !ro.multimask)) {
    r.mask = op.object.clone();
    r.source = "coarse";
    r.fallback = "no prompt";
    return r;
  }
  std::vector<Pending> pending;
  if (ro.single && ro.multimask) {  // one decoder pass gives all four: token 0 is the single-mask output
    std::vector<Pending> all;
    collect(predictor.predict(ps, sam::MaskOutput::all), "multi", true, all);
    all[0].candidate.source = "single";
    for (size_t i = 1; i < all.size(); ++i) all[i].candidate.source = "multi" + std::to_string(i - 1);
    pending = std::move(all);
  } else if (ro.single) {
    collect(predictor.predict(ps, sam::MaskOutput::single), "single", false, pending);
  } else {
    collect(predictor.predict(ps, sam::MaskOutput::multimask), "multi", true, pending);
  }
  for (auto& p : pending) r.candidates.push_back(p.candidate);
  score_candidates(r.candidates, op.object);
  int best = choose_candidate(r.candidates, ro.choice);
  Pending chosen = pending[best];
  chosen.candidate = r.candidates[best];
  for (int round = 1; round <= ro.rounds; ++round) {
    sam::PromptSet again = ps;
    again.mask_input = chosen.low_res;
    std::vector<Pending> next;
    collect(predictor.predict(again, sam::MaskOutput::single), "round" + std::to_string(round), false, next);
    std::vector<Candidate> one = {next[0].candidate};
    score_candidates(one, op.object);
    chosen = next[0];
    chosen.candidate = one[0];
    r.candidates.push_back(one[0]);
  }
  Candidate final_candidate = chosen.candidate;
  if (ro.combine == Combine::average) {
    cv::Mat near = po.mask ? soft_as_float(op.mask_prompt, op.object) : soft;
    final_candidate.mask = average_with_soft(chosen.logits, near);
  }
  final_candidate.mask = clean_mask(final_candidate.mask, op.object, ro);
  std::vector<Candidate> scored = {final_candidate};
  score_candidates(scored, op.object);
  final_candidate = scored[0];
  r.iou = final_candidate.iou;
  r.agreement = final_candidate.agreement;
  r.fallback = implausible(final_candidate, op.object, ro);
  if (r.fallback.empty()) {
    r.mask = final_candidate.mask;
    r.source = final_candidate.source;
  } else {
    r.mask = op.object.clone();
    r.source = "coarse";
  }
  for (auto& c : r.candidates) c.mask.release();
  return r;
}

}  // namespace

double QuerySegmentation::confidence() const {
  if (objects.empty()) return 0;
  double s = 0;
  for (const auto& o : objects) s += o.fallback.empty() ? o.iou * o.agreement : 0.0;
  return s / objects.size();
}

QuerySegmentation segment_query(const sam::SamPredictor& predictor, const cv::Mat& coarse, const cv::Mat& soft,
                                const PromptOptions& po, const RefineOptions& ro) {
  const auto& f = predictor.embedding().frame;
  CV_Assert(coarse.rows == f.orig_h && coarse.cols == f.orig_w && coarse.type() == CV_8UC1);
  QuerySegmentation q;
  q.mask = cv::Mat::zeros(coarse.size(), CV_8UC1);
  const cv::Mat softf = soft_as_float(soft, coarse);
  for (const auto& op : make_prompts(coarse, soft, po)) {
    q.objects.push_back(segment_object(predictor, op, softf, po, ro));
    q.mask |= q.objects.back().mask;
  }
  return q;
}

nlohmann::json to_json(const QuerySegmentation& q, const PromptOptions& po) {
  std::vector<ObjectPrompt> prompts;
  for (const auto& o : q.objects) prompts.push_back(o.prompt);
  nlohmann::json j = prompts_json(prompts, po);
  for (size_t i = 0; i < q.objects.size(); ++i) {
    const auto& o = q.objects[i];
    nlohmann::json cands = nlohmann::json::array();
    for (const auto& c : o.candidates)
      cands.push_back({{"source", c.source}, {"iou", c.iou}, {"agreement", c.agreement}});
    auto& e = j["objects"][i];
    e["chosen"] = o.source;
    e["iou"] = o.iou;
    e["agreement"] = o.agreement;
    if (!o.fallback.empty()) e["fallback"] = o.fallback;
    e["candidates"] = cands;
  }
  j["confidence"] = q.confidence();
  if (q.answered_empty)
    j["answered_empty"] = {{"score", q.answered_empty->first}, {"threshold", q.answered_empty->second}};
  return j;
}

}  // namespace sammpa
