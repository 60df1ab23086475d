#include "sam/image_embedding.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/checked_size.h"
#include "common/error.h"

namespace fs = std::filesystem;

namespace sammpa::sam {

static constexpr char kMagic[8] = {'S', 'A', 'M', 'M', 'P', 'A', 'E', '1'};

void ImageEmbedding::save(const fs::path& file) const {
  nlohmann::json h = {{"model_type", model_type},
                      {"orig_h", frame.orig_h}, {"orig_w", frame.orig_w},
                      {"input_h", frame.input_h}, {"input_w", frame.input_w},
                      {"target", frame.target}, {"low_res", frame.low_res_side()},
                      {"shape", features.shape()}};
  if (!image_digest.empty()) h["image_digest"] = image_digest;
  std::string header = h.dump();
  if (file.has_parent_path()) fs::create_directories(file.parent_path());
  fs::path tmp = file;
  tmp += ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw InputError(file, "cannot open for writing");
    out.write(kMagic, 8);
    uint32_t n = static_cast<uint32_t>(header.size());
    out.write(reinterpret_cast<const char*>(&n), 4);
    out << header;
    out.write(reinterpret_cast<const char*>(features.data()),
              static_cast<std::streamsize>(features.numel() * sizeof(float)));
    if (!out) throw InputError(file, "write failed");
  }
  fs::rename(tmp, file);
}

ImageEmbedding ImageEmbedding::load(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw InputError(file, "is a folder, not an embedding file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file, "cannot open embedding file");
  const uint64_t file_size = fs::file_size(file, ec);
  if (ec) throw InputError(file, "cannot read the file size");
  char magic[8];
  uint32_t n = 0;
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(&n), 4);
  if (!in || std::memcmp(magic, kMagic, 8) != 0) throw InputError(file, "not a sammpa embedding file");
  if (n > (1u << 20) || n > file_size - 12) throw InputError(file, "corrupt embedding header");
  std::string header(n, '\0');
  in.read(header.data(), n);
  if (!in) throw InputError(file, "corrupt embedding header");
  ImageEmbedding e;
  Shape shape;
  try {
    auto h = nlohmann::json::parse(header);
    e.model_type = h.at("model_type").get<std::string>();
    e.frame.orig_h = h.at("orig_h");
    e.frame.orig_w = h.at("orig_w");
    e.frame.input_h = h.at("input_h");
    e.frame.input_w = h.at("input_w");
    e.frame.target = h.at("target");
    e.frame.low_res = h.value("low_res", 0);  // absent in files written before LiteMedSAM support
    shape = h.at("shape").get<Shape>();
    e.image_digest = h.value("image_digest", std::string());
  } catch (const std::exception& ex) {
    throw InputError(file, std::string("corrupt embedding header: ") + ex.what());
  }
  const auto& f = e.frame;
  for (int v : {f.orig_h, f.orig_w, f.input_h, f.input_w, f.target, f.low_res_side()})
    if (v < 1 || v > (1 << 16)) throw InputError(file, "corrupt embedding header (image frame)");
  // [1, C, H, W], and exactly as many bytes in the file as the shape needs: checked before allocating.
  const auto bytes = checked_bytes(shape, sizeof(float));
  if (shape.size() != 4 || shape[0] != 1 || !bytes || *bytes == 0)
    throw InputError(file, "corrupt embedding header (shape " + Tensor::view(nullptr, shape).shape_str() + ")");
  const uint64_t have = file_size - 12 - n;
  if (*bytes != have)
    throw InputError(file, std::string(*bytes > have ? "truncated" : "corrupt") + " embedding file (the header says " +
                               std::to_string(*bytes) + " bytes of data, the file has " + std::to_string(have) + ")");
  e.features = Tensor(shape);
  in.read(reinterpret_cast<char*>(e.features.data()), static_cast<std::streamsize>(e.features.numel() * sizeof(float)));
  if (!in) throw InputError(file, "truncated embedding file");
  return e;
}

std::string image_digest(const cv::Mat& image) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const unsigned char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  const int meta[3] = {image.rows, image.cols, image.type()};
  mix(reinterpret_cast<const unsigned char*>(meta), sizeof meta);
  const size_t row = image.cols * image.elemSize();
  for (int y = 0; y < image.rows; ++y) mix(image.ptr<unsigned char>(y), row);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

cv::Size valid_cells(const ImageEmbedding& e) {
  const int g = static_cast<int>(e.features.dim(2));
  const double stride = static_cast<double>(e.frame.target) / g;
  return {std::min(g, static_cast<int>(std::ceil(e.frame.input_w / stride))),
          std::min(g, static_cast<int>(std::ceil(e.frame.input_h / stride)))};
}

}  // namespace sammpa::sam
