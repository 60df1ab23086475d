#include "io/dataset.h"

#include <algorithm>
#include <cstdlib>
#include <map>

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

Dataset scan_dataset(const fs::path& root) {
  if (!fs::exists(root)) throw InputError(root, "dataset folder not found");
  if (!fs::is_directory(root)) throw InputError(root, "not a folder");
  fs::path images = root / "images";
  if (!fs::is_directory(images))
    throw InputError(root, "no images/ subfolder (expected images/NAME.png and masks/NAME.png)");
  auto imgs = list_images(images);
  if (imgs.empty()) throw InputError(images, "no images found (empty folder or no supported file types)");
  std::map<std::string, fs::path> masks;
  if (fs::is_directory(root / "masks")) masks = list_images(root / "masks");
  for (const auto& [name, path] : masks)
    if (!imgs.count(name)) throw InputError(path, "mask has no matching image in images/");
  Dataset ds;
  ds.root = root;
  for (const auto& [name, path] : imgs) {
    Sample s{name, path, std::nullopt};
    if (auto it = masks.find(name); it != masks.end()) s.mask = it->second;
    ds.samples.push_back(std::move(s));
  }
  return ds;
}

fs::path default_data_root() {
  if (const char* env = std::getenv("SAMMPA_DATA"); env && *env) return env;
  return fs::path("..") / "shared" / "data";
}

}  // namespace sammpa
