#include "pipeline/segment_dataset.h"

#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/output_dir.h"
#include "common/progress.h"
#include "io/image_io.h"
#include "io/overlay.h"
#include "sam/nn/dnnl_context.h"
#include "sam/sam_model.h"

namespace fs = std::filesystem;

namespace sammpa {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A cached embedding is used only when it is of this model and of these very pixels; anything else (another
// model, an image replaced since, a file without a digest, a damaged file) is recomputed.
bool load_cached(const fs::path& file, const sam::SamModel& model, const cv::Mat& image, sam::ImageEmbedding& out) {
  if (file.empty() || !fs::exists(file)) return false;
  try {
    sam::ImageEmbedding e = sam::ImageEmbedding::load(file);
    if (e.model_type != model.config().model_type || e.frame.orig_h != image.rows || e.frame.orig_w != image.cols ||
        e.frame.target != model.config().image_size || e.image_digest.empty() ||
        e.image_digest != sam::image_digest(image))
      return false;
    out = std::move(e);
    return true;
  } catch (const InputError&) {
    return false;
  }
}

std::string read_text_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool cache_matches(const fs::path& dir, const std::string& identity) {
  return !dir.empty() && fs::exists(dir / kEmbeddingCacheId) && read_text_file(dir / kEmbeddingCacheId) == identity;
}

nlohmann::json query_record(const SegmentedQuery& q) {
  nlohmann::json objs = nlohmann::json::array();
  for (const auto& obj : q.result.objects) {
    objs.push_back({{"chosen", obj.source}, {"iou", obj.iou}, {"agreement", obj.agreement}});
    if (!obj.fallback.empty()) objs.back()["fallback"] = obj.fallback;
  }
  nlohmann::json r = {{"name", q.name},
                      {"objects", objs},
                      {"confidence", q.result.confidence()},
                      {"embedding_reused", q.embedding_reused},
                      {"seconds", q.seconds}};
  if (q.result.answered_empty)
    r["answered_empty"] = {{"score", q.result.answered_empty->first}, {"threshold", q.result.answered_empty->second}};
  return r;
}

// A finished query's record, when resuming; a missing or damaged one means the query is computed again.
std::optional<nlohmann::json> read_record(const fs::path& records, const std::string& name) {
  if (records.empty() || !fs::exists(records / (name + ".json"))) return std::nullopt;
  try {
    std::ifstream in(records / (name + ".json"));
    auto j = nlohmann::json::parse(in);
    if (j.at("name") != name || !j.at("objects").is_array()) return std::nullopt;
    return j;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

// The checkpoint's file name and size, and "bf16" where SAMMPA_BF16=1 put TinyViT's products on bf16 inputs
// (nn::detail::bf16_products): those embeddings are kept apart from fp32 ones.
std::string checkpoint_identity(const fs::path& ckpt) {
  return fs::absolute(ckpt).filename().string() + " " + std::to_string(fs::file_size(ckpt)) +
         (sam::nn::detail::bf16_products() ? " bf16" : "") + "\n";
}

void claim_embedding_cache(const fs::path& dir, const fs::path& checkpoint) {
  const std::string identity = checkpoint_identity(checkpoint);
  fs::create_directories(dir);
  const fs::path id = dir / kEmbeddingCacheId;
  if (!fs::exists(id)) {
    write_text_atomic(id, identity);
  } else if (read_text_file(id) != identity) {
    auto line = [](std::string t) {
      while (!t.empty() && t.back() == '\n') t.pop_back();
      return t;
    };
    throw InputError(dir, "holds the embeddings of another checkpoint or precision (" + line(read_text_file(id)) +
                              "; this run: " + line(identity) + "); choose another embedding folder");
  }
}

bool set_cached_embedding(sam::SamPredictor& predictor, const cv::Mat& image, const std::string& name,
                          const fs::path& cache, const fs::path& previous) {
  const std::string file = name + ".samemb";
  const sam::SamModel& model = predictor.model();
  sam::ImageEmbedding emb;
  bool reused = false;
  if (!cache.empty() && load_cached(cache / file, model, image, emb)) {
    reused = true;
  } else if (!previous.empty() && load_cached(previous / file, model, image, emb)) {
    reused = true;
    if (!cache.empty()) {
      std::error_code ec;
      fs::create_hard_link(previous / file, cache / file, ec);
      if (ec) fs::copy_file(previous / file, cache / file, fs::copy_options::overwrite_existing);
    }
  }
  if (reused) {
    predictor.set_embedding(std::move(emb));
  } else {
    predictor.set_image(image);
    if (!cache.empty()) predictor.embedding().save(cache / file);
  }
  return reused;
}

EmbeddingSource open_embedding_source(const SegmentOptions& o) {
  EmbeddingSource src;
  src.checkpoint = o.checkpoint.empty() ? sam::default_checkpoint() : o.checkpoint;
  const auto t0 = std::chrono::steady_clock::now();
  src.model = sam::SamModel::load(src.checkpoint);
  src.seconds_load = seconds_since(t0);
  src.cache = o.embeddings;
  if (!src.cache.empty()) claim_embedding_cache(src.cache, src.checkpoint);
  if (cache_matches(o.previous_embeddings, checkpoint_identity(src.checkpoint))) src.previous = o.previous_embeddings;
  return src;
}

void embed_supports(const Dataset& ds, const std::vector<std::string>& support, const EmbeddingSource& src,
                    sam::SamPredictor& predictor, std::vector<sam::ImageEmbedding>& embeddings,
                    std::vector<cv::Mat>& masks, const std::function<void()>& tick) {
  for (const auto& name : support) {
    const Sample& s = ds.at(name);
    if (!s.mask)
      throw InputError(s.image, "support has no mask (expected masks/" + name + ".<ext>, or " + name +
                                    "_mask.<ext>)");
    const cv::Mat image = read_image(s.image);
    masks.push_back(read_truth(s, image.size()));
    src.set(predictor, image, name);
    embeddings.push_back(predictor.embedding());
    tick();
  }
}

SegmentRun segment_dataset(const Dataset& data, const std::vector<std::string>& queries,
                           const std::function<CoarseInput(const std::string&)>& coarse_of, const SegmentOptions& o,
                           const fs::path& out_root) {
  const auto start = std::chrono::steady_clock::now();
  SegmentRun run;
  const EmbeddingSource src = open_embedding_source(o);
  run.seconds_load = src.seconds_load;
  run.checkpoint = fs::absolute(src.checkpoint).lexically_normal().string();
  run.model_type = src.model->config().model_type;
  auto t0 = std::chrono::steady_clock::now();
  fs::create_directories(out_root / "masks");
  fs::create_directories(out_root / "prompts");
  if (o.overlays) fs::create_directories(out_root / "overlay");

  sam::SamPredictor predictor(src.model);
  Progress progress("segment", queries.size());
  for (const auto& name : queries) {
    if (auto record = read_record(o.records, name)) {
      SegmentedQuery q;
      q.name = name;
      q.record = std::move(*record);
      run.queries.push_back(std::move(q));
      ++run.resumed;
      progress.tick();
      continue;
    }
    const auto tq = std::chrono::steady_clock::now();
    const Sample& s = data.at(name);
    const cv::Mat image = read_image(s.image);
    CoarseInput in = coarse_of(name);
    if (in.coarse.size() != image.size())
      throw InputError(s.image, "coarse mask size differs from the image");
    SegmentedQuery q;
    q.name = name;

    t0 = std::chrono::steady_clock::now();
    q.embedding_reused = src.set(predictor, image, name);
    run.embeddings_reused += q.embedding_reused;
    run.seconds_encode += seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    q.result = o.segment_one ? o.segment_one(predictor, name, image, in)
                             : segment_query(predictor, in.coarse, in.soft, o.prompt, o.refine);
    run.seconds_decode += seconds_since(t0);
    if (!q.result.declined.empty()) {  // before the empty answer, so that a resumed run finds both
      fs::create_directories(out_root / "declined");
      write_png(out_root / "declined" / (name + ".png"), q.result.declined);
    }
    write_png(out_root / "masks" / (name + ".png"), q.result.mask);
    write_json_atomic(out_root / "prompts" / (name + ".json"), to_json(q.result, o.prompt));
    if (o.overlays) {
      OverlayPrompts shown;
      for (const auto& obj : q.result.objects) {
        if (o.prompt.box) shown.boxes.push_back(obj.prompt.box);
        shown.points.insert(shown.points.end(), obj.prompt.points.begin(), obj.prompt.points.end());
        shown.labels.insert(shown.labels.end(), obj.prompt.labels.begin(), obj.prompt.labels.end());
      }
      const cv::Mat truth = s.mask ? read_truth(s, image.size()) : cv::Mat();
      write_png(out_root / "overlay" / (name + ".png"),
                draw_segmentation_overlay(image, q.result.mask, truth, in.coarse, shown, q.result.declined));
    }
    for (auto& obj : q.result.objects) {  // keep the prompts and scores, not the per-object images
      obj.mask.release();
      obj.prompt.object.release();
      obj.prompt.mask_prompt.release();
    }
    q.result.mask.release();
    q.result.declined.release();
    q.seconds = seconds_since(tq);
    q.record = query_record(q);
    if (!o.records.empty()) write_json_atomic(o.records / (name + ".json"), q.record);  // after its files
    run.queries.push_back(std::move(q));
    progress.tick();
  }
  progress.finish();
  run.seconds = seconds_since(start);
  return run;
}

nlohmann::json to_json(const SegmentRun& run, const SegmentOptions& o) {
  using nlohmann::json;
  json queries = json::array();
  size_t fallbacks = 0, objects = 0, empty = 0;
  for (const auto& q : run.queries) {
    for (const auto& obj : q.record.at("objects")) fallbacks += obj.contains("fallback");
    objects += q.record.at("objects").size();
    empty += q.record.at("objects").empty();
    queries.push_back(q.record);
  }
  const double n = std::max<size_t>(1, run.queries.size());
  return {{"checkpoint", run.checkpoint},
          {"model_type", run.model_type},
          {"prompt", to_json(o.prompt)},
          {"refine", to_json(o.refine)},
          {"queries", queries},
          {"summary",
           {{"queries", run.queries.size()},
            {"objects", objects},
            {"objects_kept_coarse", fallbacks},
            {"queries_without_object", empty},
            {"embeddings_reused", run.embeddings_reused},
            {"resumed", run.resumed},
            {"seconds", run.seconds},
            {"seconds_load", run.seconds_load},
            {"seconds_encode_per_query", run.seconds_encode / n},
            {"seconds_prompt_sam_refine_per_query", run.seconds_decode / n}}}};
}

}  // namespace sammpa
