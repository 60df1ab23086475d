#include "io/dataset.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <string_view>

#include "common/error.h"
#include "io/image_io.h"

namespace fs = std::filesystem;

namespace sammpa {

const Sample& Dataset::at(const std::string& name) const {
  auto i = index_of(name);
  if (!i) throw InputError(root, "no image named '" + name + "' in images/");
  return samples[*i];
}

std::optional<size_t> Dataset::index_of(const std::string& name) const {
  auto it = std::lower_bound(samples.begin(), samples.end(), name,
                             [](const Sample& s, const std::string& n) { return s.name < n; });
  if (it == samples.end() || it->name != name) return std::nullopt;
  return static_cast<size_t>(it - samples.begin());
}

static std::map<std::string, fs::path> list_images(const fs::path& dir) {
  std::map<std::string, fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || !is_supported_image(e.path())) continue;
    std::string name = strip_image_extension(e.path().filename().string());
    auto [it, inserted] = out.emplace(name, e.path());
    if (!inserted)
      throw InputError(e.path(),
                       "two files share the name '" + name + "' (also " + it->second.filename().string() + ")");
  }
  return out;
}

std::string mask_image_name(const std::string& mask_stem, const std::function<bool(const std::string&)>& is_image) {
  if (is_image(mask_stem)) return mask_stem;
  for (const char* suffix : {"_mask", "_segmentation", "_seg", "_label", "_gt"}) {
    const std::string_view sv(suffix);
    if (mask_stem.size() > sv.size() && mask_stem.ends_with(sv)) {
      const std::string name = mask_stem.substr(0, mask_stem.size() - sv.size());
      if (is_image(name)) return name;
    }
  }
  return "";
}

Dataset scan_dataset(const fs::path& root) {
  if (!fs::exists(root)) throw InputError(root, "dataset folder not found");
  if (!fs::is_directory(root)) throw InputError(root, "not a folder");
  fs::path images = root / "images";
  if (!fs::is_directory(images))
    throw InputError(root, "no images/ subfolder (expected images/NAME.png and masks/NAME.png)");
  auto imgs = list_images(images);
  if (imgs.empty()) throw InputError(images, "no images found (empty folder or no supported file types)");
  std::map<std::string, fs::path> masks;  // by image name
  if (fs::is_directory(root / "masks"))
    for (const auto& [stem, path] : list_images(root / "masks")) {
      const std::string name = mask_image_name(stem, [&](const std::string& n) { return imgs.count(n) > 0; });
      if (name.empty())
        throw InputError(path, "mask has no matching image in images/ (a mask is named as its image, or with "
                               "_mask, _segmentation, _seg, _label or _gt after the name)");
      auto [it, inserted] = masks.emplace(name, path);
      if (!inserted)
        throw InputError(path, "image '" + name + "' has two masks (also " + it->second.filename().string() + ")");
    }
  Dataset ds;
  ds.root = root;
  for (const auto& [name, path] : imgs) {
    Sample s{name, path, std::nullopt};
    if (auto it = masks.find(name); it != masks.end()) s.mask = it->second;
    ds.samples.push_back(std::move(s));
  }
  return ds;
}

Dataset with_usable_masks(const Dataset& dataset, std::vector<std::string>* dropped,
                          const std::vector<std::string>& keep) {
  Dataset out = dataset;
  for (auto& s : out.samples) {
    if (!s.mask || std::find(keep.begin(), keep.end(), s.name) != keep.end()) continue;
    const cv::Size image = read_image_size(s.image);  // an unreadable image stays an error
    std::string problem;
    try {
      const cv::Size mask = read_image_size(*s.mask);
      if (image != mask)
        problem = s.mask->string() + ": mask is " + std::to_string(mask.width) + "x" + std::to_string(mask.height) +
                  " but its image is " + std::to_string(image.width) + "x" + std::to_string(image.height);
    } catch (const InputError& e) {
      problem = e.what();  // names the file
    }
    if (problem.empty()) continue;
    if (dropped) dropped->push_back(problem);
    s.mask.reset();
  }
  return out;
}

fs::path default_data_root() {
  if (const char* env = std::getenv("SAMMPA_DATA"); env && *env) return env;
  return fs::path("..") / "shared" / "data";
}

}  // namespace sammpa
