#include "sam/sam_model.h"

#include <variant>

#include "sam/checkpoint.h"
#include "sam/image_encoder_tinyvit.h"
#include "sam/image_encoder_vit.h"

namespace sammpa::sam {

struct SamModel::Encoder {
  std::variant<ImageEncoderViT, ImageEncoderTinyViT> impl;
};

std::shared_ptr<const SamModel> SamModel::load(const std::filesystem::path& path) {
  Checkpoint ckpt = Checkpoint::open(path);
  auto model = std::shared_ptr<SamModel>(new SamModel());
  model->config_ = detect_sam_config(ckpt);
  model->path_ = path;
  if (model->config_.encoder == EncoderKind::TinyViT)
    model->encoder_ = std::make_shared<Encoder>(Encoder{ImageEncoderTinyViT::load(ckpt)});
  else
    model->encoder_ = std::make_shared<Encoder>(Encoder{ImageEncoderViT::load(ckpt)});
  model->decoder_ = std::make_shared<SamPromptDecoder>(ckpt);
  return model;
}

Tensor SamModel::encode(const Tensor& input) const {
  return std::visit([&](const auto& e) { return e.forward(input); }, encoder_->impl);
}

DecoderOutput SamModel::decode(const Tensor& image_embedding, const Prompts& prompts, bool multimask) const {
  return decoder_->predict(image_embedding, prompts, multimask);
}

}  // namespace sammpa::sam
