// `sammpa sam` (prompt SAM on one image) and `sammpa sam-embed` (precompute image embeddings).
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <variant>

#include "commands.h"
#include "common/error.h"
#include "common/output_dir.h"
#include "pipeline/segment_dataset.h"
#include "common/progress.h"
#include "io/dataset.h"
#include "io/image_io.h"
#include "common/npy.h"
#include "io/overlay.h"
#include "sam/predictor.h"

namespace fs = std::filesystem;
using namespace sammpa;
using namespace sammpa::sam;

namespace {

// "A,B,C": the comma-separated numbers, or an error message.
std::variant<std::vector<float>, std::string> split_numbers(const std::string& text, size_t count) {
  std::vector<float> v;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    try {
      size_t used = 0;
      v.push_back(std::stof(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      return "'" + item + "' is not a number";
    }
  }
  if (v.size() != count || (!text.empty() && text.back() == ','))
    return "expected " + std::to_string(count) + " comma-separated numbers, got '" + text + "'";
  return v;
}

// A CLI11 check of COUNT comma-separated numbers, with a further rule on them (an error message or "").
CLI::Validator numbers_check(size_t count, std::function<std::string(const std::vector<float>&)> rule) {
  return CLI::Validator(
      [count, rule](std::string& text) -> std::string {
        auto v = split_numbers(text, count);
        if (auto* error = std::get_if<std::string>(&v)) return *error;
        return rule(std::get<std::vector<float>>(v));
      },
      "", "");
}

std::vector<float> numbers(const std::string& checked_text, size_t count) {
  return std::get<std::vector<float>>(split_numbers(checked_text, count));
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

fs::path checkpoint_or_default(const std::string& given) {
  return given.empty() ? default_checkpoint() : fs::path(given);
}

Tensor load_mask_prompt(const fs::path& file, const ImageFrame& frame) {
  if (file.extension() == ".npy") {
    FloatArray a = read_npy(file);
    int64_t n = 1;
    for (auto d : a.shape) n *= d;
    const int64_t side = frame.low_res_side();
    if (n != side * side || a.shape.size() < 2 || a.shape.back() != side)
      throw InputError(file, "mask input must hold one " + std::to_string(side) + "x" + std::to_string(side) +
                                 " low-resolution logits plane (e.g. lowres_0.npy from an earlier run)");
    Tensor t({1, 1, side, side});
    std::copy(a.data.begin(), a.data.end(), t.data());
    return t;
  }
  cv::Mat m = read_image(file);
  if (m.rows != frame.orig_h || m.cols != frame.orig_w)
    throw InputError(file, "mask input is " + std::to_string(m.cols) + "x" + std::to_string(m.rows) +
                               " but the image is " + std::to_string(frame.orig_w) + "x" +
                               std::to_string(frame.orig_h));
  return mask_to_prompt_logits(to_grey(m), frame);
}

struct SamArgs {
  std::string image, checkpoint, embedding, mask_input, out, box;
  std::vector<std::string> points;
  bool multimask = false, overwrite = false;
  int threads = 0;
};

void run_sam(const SamArgs& a) {
  sammpa::cli::use_threads(a.threads);
  if (a.image.empty() && a.embedding.empty()) throw InputError("sam: give --image or --embedding (or both)");
  PromptSet prompts;
  for (const auto& p : a.points) {  // checked by CLI11 (numbers_check)
    const auto v = numbers(p, 3);
    prompts.points.push_back({v[0], v[1]});
    prompts.labels.push_back(static_cast<int>(v[2]));
  }
  if (!a.box.empty()) {
    const auto v = numbers(a.box, 4);
    prompts.box = std::array<float, 4>{v[0], v[1], v[2], v[3]};
  }
  if (prompts.points.empty() && !prompts.box && a.mask_input.empty())
    throw InputError("sam: no prompt given (use --point X,Y,LABEL, --box X0,Y0,X1,Y1 and/or --mask-input FILE)");

  cv::Mat image;
  if (!a.image.empty()) image = read_image(a.image);  // validate inputs before the slow model load
  OutputDir out(a.out, {a.overwrite, {a.image, a.embedding, a.mask_input}});
  auto t0 = std::chrono::steady_clock::now();
  auto model = SamModel::load(checkpoint_or_default(a.checkpoint));
  double t_load = seconds_since(t0);
  SamPredictor predictor(model);
  t0 = std::chrono::steady_clock::now();
  if (!a.embedding.empty()) {
    predictor.set_embedding(ImageEmbedding::load(a.embedding));
    const auto& f = predictor.embedding().frame;
    if (!image.empty() && (image.rows != f.orig_h || image.cols != f.orig_w))
      throw InputError(a.embedding, "embedding was computed for a " + std::to_string(f.orig_w) + "x" +
                                        std::to_string(f.orig_h) + " image, not " + a.image);
  } else {
    predictor.set_image(image);
  }
  double t_encode = seconds_since(t0);
  if (!a.mask_input.empty()) prompts.mask_input = load_mask_prompt(a.mask_input, predictor.embedding().frame);

  t0 = std::chrono::steady_clock::now();
  Prediction r = predictor.predict(prompts, a.multimask);
  double t_decode = seconds_since(t0);

  nlohmann::json j;
  j["checkpoint"] = model->checkpoint_path().string();
  j["model_type"] = model->config().model_type;
  j["image"] = a.image;
  j["iou_predictions"] = r.iou;
  j["best"] = r.best();
  j["seconds"] = {{"load", t_load}, {a.embedding.empty() ? "encode" : "load_embedding", t_encode},
                  {"decode", t_decode}};
  for (size_t m = 0; m < r.masks.size(); ++m) {
    std::string mask = "mask_" + std::to_string(m) + ".png", low = "lowres_" + std::to_string(m) + ".npy";
    write_png(out.path(mask), r.masks[m]);
    Tensor plane = select_low_res(r.low_res_logits, static_cast<int>(m));
    write_npy(out.path(low), plane.data(), {plane.dim(2), plane.dim(3)});
    j["masks"].push_back({{"mask", mask}, {"lowres_logits", low}, {"iou_prediction", r.iou[m]}});
  }
  if (!image.empty()) write_png(out.path("overlay.png"), draw_overlay(image, r.masks[r.best()]));
  write_json_atomic(out.path("result.json"), j);
  out.commit();
  std::printf("%zu mask(s) in %s; predicted IoU:", r.masks.size(), a.out.c_str());
  for (float v : r.iou) std::printf(" %.3f", v);
  std::printf(" (encode %.2f s, decode %.3f s)\n", t_encode, t_decode);
}

sammpa::cli::Command sam_cmd(50, [](CLI::App& app) {
  static SamArgs a;
  auto* sub = app.add_subcommand("sam", "Prompt the Segment Anything Model on one image (points, box, mask)");
  sub->add_option("-i,--image", a.image, "the image (any supported format)");
  sub->add_option("--embedding", a.embedding, "a saved embedding (sammpa sam-embed) instead of running the encoder");
  sub->add_option("--checkpoint", a.checkpoint,
                  "official SAM / MedSAM / MobileSAM / LiteMedSAM checkpoint (default: $SAMMPA_CHECKPOINT or the "
                  "cached MobileSAM)");
  sub->add_option("--point", a.points, "X,Y,LABEL in image pixels; LABEL 1 = foreground, 0 = background (repeatable)")
      ->check(numbers_check(3, [](const std::vector<float>& v) {
        return v[2] == 0.f || v[2] == 1.f ? "" : "label must be 1 (foreground) or 0 (background)";
      }));
  sub->add_option("--box", a.box, "X0,Y0,X1,Y1 in image pixels")
      ->check(numbers_check(4, [](const std::vector<float>& v) {
        return v[0] < v[2] && v[1] < v[3] ? "" : "need X0 < X1 and Y0 < Y1";
      }));
  sub->add_option("--mask-input", a.mask_input,
                  "mask prompt: lowres_N.npy from an earlier run, or a mask image of the image's size");
  sub->add_flag("--multimask", a.multimask, "return SAM's 3 candidate masks instead of 1");
  sammpa::cli::add_threads_option(sub, a.threads);
  sub->add_option("-o,--out", a.out, "output folder: mask_N.png, lowres_N.npy, overlay.png, result.json")->required();
  sammpa::cli::add_overwrite_flag(sub, a.overwrite);
  sub->callback([] { run_sam(a); });
});

struct EmbedArgs {
  std::vector<std::string> images;
  std::string data, checkpoint, out;
  bool overwrite = false;
  int threads = 0;
};

void run_embed(const EmbedArgs& a) {
  sammpa::cli::use_threads(a.threads);
  std::vector<std::pair<std::string, fs::path>> items;  // output name, image
  if (!a.data.empty())
    for (const auto& s : scan_dataset(a.data).samples) items.emplace_back(s.name, s.image);
  for (const auto& i : a.images) items.emplace_back(strip_image_extension(fs::path(i).filename().string()), i);
  if (items.empty()) throw InputError("sam-embed: give --image FILE... or --data FOLDER");
  for (const auto& [name, path] : items) read_image_size(path);  // fail early on unreadable files
  OutputPolicy policy{a.overwrite, {a.data}};
  for (const auto& i : a.images) policy.inputs.push_back(i);
  OutputDir out(a.out, policy);
  const fs::path ckpt = checkpoint_or_default(a.checkpoint);
  auto model = SamModel::load(ckpt);
  claim_embedding_cache(out.staging(), ckpt);  // so that `run`/`segment --embeddings` can reuse the folder
  SamPredictor predictor(model);
  Progress progress("embedding", items.size());
  for (const auto& [name, path] : items) {
    predictor.set_image(read_image(path));
    predictor.embedding().save(out.path(name + ".samemb"));
    progress.tick();
  }
  progress.finish();
  out.commit();
  std::printf("%zu embedding(s) (%s) in %s\n", items.size(), model->config().model_type.c_str(), a.out.c_str());
}

sammpa::cli::Command embed_cmd(51, [](CLI::App& app) {
  static EmbedArgs a;
  auto* sub = app.add_subcommand("sam-embed",
                                 "Compute and save SAM image embeddings (NAME.samemb) for later prompting");
  sub->add_option("-i,--image", a.images, "image file(s)");
  sub->add_option("-d,--data", a.data,
                  "a dataset folder (images/NAME.ext, or images and their masks): embeds every image");
  sub->add_option("--checkpoint", a.checkpoint, "SAM checkpoint (default: $SAMMPA_CHECKPOINT or the cached MobileSAM)");
  sub->add_option("-o,--out", a.out, "output folder")->required();
  sammpa::cli::add_threads_option(sub, a.threads);
  sammpa::cli::add_overwrite_flag(sub, a.overwrite);
  sub->callback([] { run_embed(a); });
});

}  // namespace
