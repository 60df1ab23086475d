// `sammpa everything`: every object SAM finds in one image (the official automatic mask generator's rules).
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "commands.h"
#include "common/error.h"
#include "common/output_dir.h"
#include "io/image_io.h"
#include "sam/automatic_mask_generator.h"

namespace fs = std::filesystem;
using namespace sammpa;

namespace {

// Every mask in its own colour over the image (largest first, so that small objects stay visible).
cv::Mat draw_all(const cv::Mat& image, std::vector<const sam::AutomaticMask*> masks) {
  cv::Mat out = to_rgb(image).clone();
  std::sort(masks.begin(), masks.end(), [](auto* a, auto* b) { return a->area > b->area; });
  cv::RNG rng(7);
  for (const auto* m : masks) {
    const cv::Vec3b colour(rng.uniform(40, 256), rng.uniform(40, 256), rng.uniform(40, 256));
    for (int y = 0; y < out.rows; ++y)
      for (int x = 0; x < out.cols; ++x)
        if (m->mask.at<uint8_t>(y, x)) {
          cv::Vec3b& p = out.at<cv::Vec3b>(y, x);
          for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>((p[c] + colour[c]) / 2);
        }
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(m->mask.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    cv::drawContours(out, contours, -1, cv::Scalar(colour[0], colour[1], colour[2]), 1);
  }
  return out;
}

sammpa::cli::Command cmd(35, [](CLI::App& app) {
  auto* sub = app.add_subcommand("everything", "Segment everything in one image: SAM's automatic mask generator "
                                               "(a grid of point prompts, quality filters, duplicate removal)");
  static std::string image, out, checkpoint;
  static sam::AutomaticMaskOptions o;
  static bool overwrite = false;
  static int threads = 0;
  sub->add_option("-i,--image", image, "the image")->required();
  sub->add_option("-o,--out", out, "output folder: masks/NNN.png, masks.json, overlay.png")->required();
  sub->add_option("--checkpoint", checkpoint, "SAM checkpoint (default: MobileSAM, or $SAMMPA_CHECKPOINT)");
  sub->add_option("--points-per-side", o.points_per_side, "grid of N x N point prompts")
      ->capture_default_str()->check(CLI::Range(1, 256));
  sub->add_option("--points-per-batch", o.points_per_batch, "prompts decoded together")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  sub->add_option("--pred-iou-thresh", o.pred_iou_thresh, "keep masks whose predicted IoU is above this")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sub->add_option("--stability-score-thresh", o.stability_score_thresh,
                  "keep masks whose stability (IoU of the mask at logit +offset and -offset) reaches this")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sub->add_option("--box-nms-thresh", o.box_nms_thresh, "drop a mask whose box overlaps a better one's above this")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cli::add_threads_option(sub, threads);
  cli::add_overwrite_flag(sub, overwrite);
  sub->callback([] {
    cli::use_threads(threads);
    const fs::path folder = fs::path(image).parent_path();
    OutputDir dir(out, OutputPolicy{overwrite, {folder.empty() ? fs::path(".") : folder}});
    const cv::Mat img = read_image(image);
    const fs::path ckpt = checkpoint.empty() ? sam::default_checkpoint() : fs::path(checkpoint);
    sam::SamPredictor predictor(sam::SamModel::load(ckpt));
    const auto t0 = std::chrono::steady_clock::now();
    predictor.set_image(img);
    const auto t1 = std::chrono::steady_clock::now();
    const auto masks = sam::generate_all_masks(predictor, o);
    const auto t2 = std::chrono::steady_clock::now();
    nlohmann::json records = nlohmann::json::array();
    std::vector<const sam::AutomaticMask*> all;
    for (size_t i = 0; i < masks.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "%03zu.png", i);
      write_png(dir.path(std::string("masks/") + name), masks[i].mask);
      records.push_back({{"mask", std::string("masks/") + name}, {"bbox", masks[i].bbox}, {"area", masks[i].area},
                         {"predicted_iou", masks[i].predicted_iou}, {"stability_score", masks[i].stability_score},
                         {"point_coords", {masks[i].point}}});
      all.push_back(&masks[i]);
    }
    const double encode = std::chrono::duration<double>(t1 - t0).count();
    const double decode = std::chrono::duration<double>(t2 - t1).count();
    write_json_atomic(dir.path("masks.json"),
                      {{"image", fs::absolute(image).lexically_normal().string()},
                       {"checkpoint", fs::absolute(ckpt).lexically_normal().string()},
                       {"options", {{"points_per_side", o.points_per_side}, {"pred_iou_thresh", o.pred_iou_thresh},
                                    {"stability_score_thresh", o.stability_score_thresh},
                                    {"box_nms_thresh", o.box_nms_thresh}}},
                       {"seconds", {{"encoder", encode}, {"masks", decode}}},
                       {"masks", records}});
    write_png(dir.path("overlay.png"), draw_all(img, all));
    dir.commit();
    std::printf("%zu masks from %d point prompts in %.1f s (encoder %.2f s); results in %s\n", masks.size(),
                o.points_per_side * o.points_per_side, encode + decode, encode, out.c_str());
  });
});

}  // namespace
