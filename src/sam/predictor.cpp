#include "sam/predictor.h"

#include <algorithm>
#include <cstring>
#include <opencv2/imgproc.hpp>

#include "common/error.h"

namespace sammpa::sam {

int Prediction::best() const {
  return static_cast<int>(std::max_element(iou.begin(), iou.end()) - iou.begin());
}

SamPredictor::SamPredictor(std::shared_ptr<const SamModel> model) : model_(std::move(model)) {}

void SamPredictor::set_image(const cv::Mat& image) {
  if (image.empty() || image.depth() != CV_8U || (image.channels() != 1 && image.channels() != 3))
    throw std::invalid_argument("SamPredictor::set_image: expected an 8-bit grey or RGB image");
  const SamConfig& c = model_->config();
  ImageFrame frame = make_frame(image.rows, image.cols, c.image_size, c.low_res_size());
  embedding_.model_type = c.model_type;
  embedding_.frame = frame;
  embedding_.image_digest = image_digest(image);
  embedding_.features = model_->encode(c.input_norm == InputNorm::MinMax ? preprocess_image_minmax(image, frame)
                                                                         : preprocess_image(image, frame));
  decoder_image_ = model_->prepare_decode(embedding_.features);
}

void SamPredictor::set_embedding(ImageEmbedding embedding) {
  const SamConfig& c = model_->config();
  if (embedding.model_type != c.model_type)
    throw InputError("embedding was computed with model '" + embedding.model_type + "' but the checkpoint is '" +
                     c.model_type + "'");
  if (embedding.frame.target != c.image_size)
    throw InputError("embedding was computed for a " + std::to_string(embedding.frame.target) +
                     " input but the checkpoint takes " + std::to_string(c.image_size));
  embedding.frame.low_res = c.low_res_size();
  embedding_ = std::move(embedding);
  decoder_image_ = model_->prepare_decode(embedding_.features);
}

DecoderOutput SamPredictor::predict_low_res(const PromptSet& p, MaskOutput which) const {
  return model_->decode(decoder_image_, to_input_frame(p), which);
}

std::vector<DecoderOutput> SamPredictor::predict_low_res_batch(const std::vector<PromptSet>& prompts,
                                                               MaskOutput which) const {
  std::vector<Prompts> q;
  for (const PromptSet& p : prompts) q.push_back(to_input_frame(p));
  return model_->decode_batch(decoder_image_, q, which);
}

Prompts SamPredictor::to_input_frame(const PromptSet& p) const {
  if (!has_image()) throw std::logic_error("SamPredictor::predict before set_image");
  if (p.points.size() != p.labels.size()) throw InputError("prompt: each point needs one label");
  const ImageFrame& f = embedding_.frame;
  // SAM scales each axis by its rounded resized size (ResizeLongestSide.apply_coords); LiteMedSAM scales both by
  // target / longest side, as its official inference scales boxes.
  const bool lite = model_->config().input_norm == InputNorm::MinMax;
  const double lite_scale = static_cast<double>(f.target) / std::max(f.orig_h, f.orig_w);
  auto to_input = [&](float x, float y) -> std::array<float, 2> {
    if (!lite) return to_input_coords(x, y, f);
    return {static_cast<float>(x * lite_scale), static_cast<float>(y * lite_scale)};
  };
  Prompts q;
  for (const auto& pt : p.points) q.points.push_back(to_input(pt[0], pt[1]));
  q.labels = p.labels;
  if (p.box) {
    auto a = to_input((*p.box)[0], (*p.box)[1]), b = to_input((*p.box)[2], (*p.box)[3]);
    q.box = std::array<float, 4>{a[0], a[1], b[0], b[1]};
  }
  q.mask_input = p.mask_input;
  return q;
}

Prediction SamPredictor::predict(const PromptSet& p, MaskOutput which) const {
  DecoderOutput out = predict_low_res(p, which);
  const ImageFrame& f = embedding_.frame;

  Prediction r;
  r.iou = out.iou;
  r.low_res_logits = out.low_res_logits;
  Tensor up = upscale_mask_logits(out.low_res_logits, f);
  const int64_t m = up.dim(1);
  r.logits = up.reshaped({m, f.orig_h, f.orig_w});
  for (int64_t i = 0; i < m; ++i) {
    cv::Mat plane(f.orig_h, f.orig_w, CV_32FC1, r.logits.data() + i * f.orig_h * f.orig_w);
    cv::Mat bin;
    cv::compare(plane, 0.f, bin, cv::CMP_GT);
    r.masks.push_back(bin);
  }
  return r;
}

Tensor select_low_res(const Tensor& low_res, int m) {
  const int64_t h = low_res.dim(-2), w = low_res.dim(-1);
  Tensor t({1, 1, h, w});
  std::memcpy(t.data(), low_res.data() + m * h * w, static_cast<size_t>(h * w) * sizeof(float));
  return t;
}

Tensor mask_to_prompt_logits(const cv::Mat& mask, const ImageFrame& f, float scale) {
  if (mask.rows != f.orig_h || mask.cols != f.orig_w)
    throw InputError("mask prompt is " + std::to_string(mask.cols) + "x" + std::to_string(mask.rows) +
                     " but the image is " + std::to_string(f.orig_w) + "x" + std::to_string(f.orig_h));
  // The decoder's low-resolution frame: 256 for every official model (a 1024 input for SAM, 256 for LiteMedSAM).
  const int side = f.low_res_side();
  const double ratio = static_cast<double>(f.target) / side;
  const int h = std::max(1, static_cast<int>(f.input_h / ratio + 0.5)),
            w = std::max(1, static_cast<int>(f.input_w / ratio + 0.5));
  cv::Mat m8 = mask.channels() == 1 ? mask : cv::Mat();
  if (m8.empty()) cv::cvtColor(mask, m8, cv::COLOR_RGB2GRAY);
  cv::Mat small;
  m8.convertTo(small, CV_32FC1, 1.0 / 255.0);
  cv::resize(small, small, {w, h}, 0, 0, cv::INTER_AREA);
  Tensor t({1, 1, side, side});
  std::fill(t.data(), t.data() + side * side, -scale);
  for (int y = 0; y < std::min(h, side); ++y)
    for (int x = 0; x < std::min(w, side); ++x) t.data()[y * side + x] = scale * (2.f * small.at<float>(y, x) - 1.f);
  return t;
}

}  // namespace sammpa::sam
