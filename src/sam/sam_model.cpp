#include "sam/sam_model.h"

#include <cstdlib>
#include <variant>

#include "common/error.h"

#include "sam/checkpoint/checkpoint.h"
#include "sam/encoders/image_encoder_tinyvit.h"
#include "sam/encoders/image_encoder_vit.h"

namespace sammpa::sam {

std::filesystem::path checkpoint_cache() {
  if (const char* c = std::getenv("SAMMPA_CACHE"); c && *c) return c;
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "sammpa";
  return {};
}

std::filesystem::path default_checkpoint() {
  if (const char* e = std::getenv("SAMMPA_CHECKPOINT"); e && *e) return e;
  const std::filesystem::path cache = checkpoint_cache();
  std::filesystem::path p = cache / "mobile_sam.pt";
  if (!cache.empty() && std::filesystem::exists(p)) return p;
  throw InputError("no SAM checkpoint: pass --checkpoint FILE, set SAMMPA_CHECKPOINT, or run "
                   "scripts/fetch_mobile_sam.sh to download the MobileSAM checkpoint");
}

struct SamModel::Encoder {
  std::variant<ImageEncoderViT, ImageEncoderTinyViT> impl;
};

std::shared_ptr<const SamModel> SamModel::load(const std::filesystem::path& path) {
  Checkpoint ckpt = Checkpoint::open(path);
  auto model = std::shared_ptr<SamModel>(new SamModel());
  model->config_ = detect_sam_config(ckpt);
  model->path_ = path;
  if (model->config_.encoder == EncoderKind::TinyViT) {
    model->encoder_ = std::make_shared<Encoder>(Encoder{ImageEncoderTinyViT::load(ckpt, model->config_.tiny)});
  } else {
    model->encoder_ = std::make_shared<Encoder>(
        Encoder{ImageEncoderViT::load(model->config_.vit, ImageEncoderViT::WeightSource::of(ckpt))});
  }
  model->decoder_ = std::make_shared<SamPromptDecoder>(ckpt, model->config_.image_embedding_size,
                                                       model->config_.image_size, model->config_.decoder.num_heads);
  return model;
}

Tensor SamModel::encode(const Tensor& input) const {
  return std::visit([&](const auto& e) { return e.forward(input); }, encoder_->impl);
}

DecoderOutput SamModel::decode(const Tensor& image_embedding, const Prompts& prompts, MaskOutput which) const {
  return decoder_->predict(image_embedding, prompts, which);
}

}  // namespace sammpa::sam
