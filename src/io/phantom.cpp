#include "io/phantom.h"

#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>
#include <random>
#include <utility>
#include <vector>

#include "io/image_io.h"

namespace fs = std::filesystem;

namespace sammpa {

namespace {

void write_lesion_phantoms(const fs::path& root, const PhantomOptions& opt) {
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const int s = opt.size;
  for (int i = 0; i < opt.count; ++i) {
    cv::theRNG().state = opt.seed * 1000003ULL + static_cast<uint64_t>(i);
    // Tissue: horizontal layers of varying brightness, and speckle (blurred multiplicative noise).
    cv::Mat img(s, s, CV_32FC1);
    const double phase = u(rng) * 3, freq = 3 + 2 * u(rng);
    for (int y = 0; y < s; ++y) img.row(y).setTo(120 + 35 * std::sin(phase + freq * 6.283 * y / s) + 20 * y / s);
    cv::Mat speckle(s, s, CV_32FC1);
    cv::randn(speckle, 1.0, 0.35);
    cv::GaussianBlur(speckle, speckle, {0, 0}, 1.2);
    img = img.mul(speckle);
    cv::Mat mask(s, s, CV_8UC1, cv::Scalar(0));
    const bool has_lesion = i % 5 != 4;
    // With max_lesions > 1, each lesion image holds 1 to max_lesions of them, apart from each other.
    const int lesions = !has_lesion ? 0 : opt.max_lesions > 1 ? 1 + static_cast<int>(rng() % opt.max_lesions) : 1;
    std::vector<std::pair<cv::Point2d, double>> placed;  // centre, semi-major axis
    for (int l = 0; l < lesions; ++l) {
      // An ellipse anywhere in the middle 70%, with a wavy edge.
      cv::Point2d c(s * (0.5 + 0.35 * u(rng)), s * (0.5 + 0.35 * u(rng)));
      const double a = s * (opt.lesion_size + opt.lesion_size / 3 * u(rng)), b = a * (0.6 + 0.2 * u(rng));
      auto too_close = [&] {
        for (const auto& [pc, pa] : placed)
          if (cv::norm(c - pc) < 1.5 * (a + pa)) return true;
        return false;
      };
      for (int tries = 0; tries < 50 && too_close(); ++tries)
        c = {s * (0.5 + 0.35 * u(rng)), s * (0.5 + 0.35 * u(rng))};
      if (too_close()) break;  // no room left for another one
      placed.emplace_back(c, a);
      const double turn = u(rng) * 3.1416;
      const double w1 = 0.12 * u(rng), w2 = 0.08 * u(rng), ph = u(rng) * 3;
      std::vector<cv::Point> edge;
      for (int k = 0; k < 72; ++k) {
        const double t = k * 6.2832 / 72, r = 1 + w1 * std::sin(3 * t + ph) + w2 * std::sin(5 * t);
        const double x = a * r * std::cos(t), y = b * r * std::sin(t);
        edge.emplace_back(static_cast<int>(c.x + x * std::cos(turn) - y * std::sin(turn)),
                          static_cast<int>(c.y + x * std::sin(turn) + y * std::cos(turn)));
      }
      cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{edge}, cv::Scalar(255));
    }
    if (has_lesion) {
      cv::Mat inside;
      mask.convertTo(inside, CV_32FC1, 1.0 / 255.0);
      cv::GaussianBlur(inside, inside, {0, 0}, 1.5);
      img = img.mul(1.0 - 0.75 * inside);  // hypoechoic: dark inside
    }
    cv::GaussianBlur(img, img, {0, 0}, 0.8);
    cv::Mat out8;
    img.convertTo(out8, CV_8UC1);
    char name[32];
    std::snprintf(name, sizeof name, "%s_%03d.png", has_lesion ? "lesion" : "normal", i);
    write_png(root / "images" / name, out8);
    write_png(root / "masks" / name, mask);
  }
}

}  // namespace

void write_phantom_dataset(const fs::path& root, const PhantomOptions& opt) {
  if (opt.kind == PhantomKind::lesion) return write_lesion_phantoms(root, opt);
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const int s = opt.size;
  for (int i = 0; i < opt.count; ++i) {
    cv::Mat mask(s, s, CV_8UC1, cv::Scalar(0));
    // Body: a bright rounded rectangle; lobes: two ellipses placed symmetrically with jitter.
    cv::Mat img(s, s, CV_32FC1, cv::Scalar(30));
    cv::ellipse(img, {s / 2 + int(u(rng) * 6), s / 2 + int(u(rng) * 6)}, {int(s * 0.44), int(s * 0.46)}, 0, 0, 360,
                cv::Scalar(150 + 20 * u(rng)), cv::FILLED);
    double dx = u(rng) * s * 0.04, dy = u(rng) * s * 0.04, sc = 1.0 + 0.08 * u(rng);
    for (int side = -1; side <= 1; side += 2) {
      cv::Point c(int(s / 2 + side * s * 0.2 * sc + dx + u(rng) * 3), int(s * 0.5 + dy + u(rng) * 3));
      cv::Size ax(int(s * (0.12 + 0.015 * u(rng)) * sc), int(s * (0.28 + 0.03 * u(rng)) * sc));
      cv::ellipse(mask, c, ax, side * (8 + 4 * u(rng)), 0, 360, cv::Scalar(255), cv::FILLED);
    }
    // Smooth random deformation of the whole scene (body and lobes together).
    cv::Mat fx(4, 4, CV_32FC1), fy(4, 4, CV_32FC1);
    for (int k = 0; k < 16; ++k) {
      fx.at<float>(k) = float(u(rng) * s * 0.02);
      fy.at<float>(k) = float(u(rng) * s * 0.02);
    }
    cv::resize(fx, fx, {s, s}, 0, 0, cv::INTER_CUBIC);
    cv::resize(fy, fy, {s, s}, 0, 0, cv::INTER_CUBIC);
    cv::Mat mapx(s, s, CV_32FC1), mapy(s, s, CV_32FC1);
    for (int y = 0; y < s; ++y)
      for (int x = 0; x < s; ++x) {
        mapx.at<float>(y, x) = x + fx.at<float>(y, x);
        mapy.at<float>(y, x) = y + fy.at<float>(y, x);
      }
    cv::Mat lobes;
    mask.convertTo(lobes, CV_32FC1, 1.0 / 255.0);
    img = img.mul(1.0 - 0.6 * lobes);
    cv::remap(img, img, mapx, mapy, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    cv::remap(mask, mask, mapx, mapy, cv::INTER_NEAREST, cv::BORDER_CONSTANT);
    cv::GaussianBlur(img, img, {0, 0}, 1.5);
    cv::Mat noise(s, s, CV_32FC1);
    cv::theRNG().state  // OpenCV's RNG, seeded per image for determinism
         = opt.seed * 1000003ULL + static_cast<uint64_t>(i);
    cv::randn(noise, 0, 6);
    img += noise;
    cv::Mat out8;
    img.convertTo(out8, CV_8UC1);
    char name[32];
    std::snprintf(name, sizeof name, "phantom_%03d.png", i);
    write_png(root / "images" / name, out8);
    write_png(root / "masks" / name, mask);
  }
}

}  // namespace sammpa
