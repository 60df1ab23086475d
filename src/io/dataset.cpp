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
  if (!i) throw InputError(root, "no image named '" + name + "' in the data set");
  return samples[*i];
}

std::optional<size_t> Dataset::index_of(const std::string& name) const {
  auto it = std::lower_bound(samples.begin(), samples.end(), name,
                             [](const Sample& s, const std::string& n) { return s.name < n; });
  if (it == samples.end() || it->name != name) return std::nullopt;
  return static_cast<size_t>(it - samples.begin());
}

namespace {

// The supported image files of one folder, by name without extension; two files of one name are an error.
void list_images(const fs::path& dir, std::map<std::string, fs::path>& out) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && is_supported_image(e.path())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::string name = strip_image_extension(f.filename().string());
    auto [it, inserted] = out.emplace(name, f);
    if (!inserted) throw InputError(f, "two files share the name '" + name + "' (also " + it->second.string() + ")");
  }
}

// Strips "_N" (a further object's number) from the end of a stem; false where there is none.
bool strip_object_number(std::string& stem) {
  const size_t us = stem.rfind('_');
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  if (us == std::string::npos || us + 1 == stem.size() ||
      !std::all_of(stem.begin() + static_cast<std::ptrdiff_t>(us) + 1, stem.end(), is_digit))
    return false;
  stem.resize(us);
  return true;
}

constexpr const char* kSuffixes = "_mask, _segmentation, _seg, _label or _gt";

// Attaches each mask file to its image: the first un-numbered mask is the sample's, numbered ones are further
// objects. A mask without its image is an error; only images/ + masks/ reach it, since the other layout tells
// masks from images by finding their images.
void attach_masks(const std::map<std::string, fs::path>& mask_files, Dataset& ds) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < ds.samples.size(); ++i) index[ds.samples[i].name] = i;
  for (const auto& [stem, path] : mask_files) {
    bool numbered = false;
    const auto is_image = [&](const std::string& n) { return index.count(n) > 0; };
    const std::string name = mask_image_name(stem, is_image, &numbered);
    if (name.empty())
      throw InputError(path, std::string("mask has no matching image in images/ (a mask is named as its image, or ") +
                                 "with " + kSuffixes + " after the name, and _1, _2, ... for further objects)");
    Sample& s = ds.samples[index.at(name)];
    if (numbered) {
      s.more_masks.push_back(path);
    } else if (s.mask) {
      throw InputError(path, "image '" + name + "' has two masks (also " + s.mask->filename().string() + ")");
    } else {
      s.mask = path;
    }
  }
  for (auto& s : ds.samples)
    if (!s.more_masks.empty() && !s.mask) {  // only numbered files: the first is the sample's mask
      s.mask = s.more_masks.front();
      s.more_masks.erase(s.more_masks.begin());
    }
}

// Images and their masks in `root` and its subfolders one level down: each mask beside its image (the original
// BUSI) or in a folder of its own (Kaggle's chest X-rays: CXR_png/NAME.png, masks/NAME_mask.png), told apart by
// the mask's suffix.
Dataset scan_side_by_side(const fs::path& root) {
  std::vector<fs::path> folders{root};
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && !e.path().filename().string().starts_with(".")) folders.push_back(e.path());
  std::sort(folders.begin() + 1, folders.end());
  std::map<std::string, fs::path> files, images, masks;
  for (const auto& dir : folders) {
    std::map<std::string, fs::path> here;
    list_images(dir, here);
    for (const auto& [stem, path] : here) {
      auto [it, inserted] = files.emplace(stem, path);
      if (!inserted)
        throw InputError(path, "two files share the name '" + stem + "' (also " + it->second.string() +
                                   "; masks named as their images go in masks/ beside images/)");
    }
  }
  for (const auto& [stem, path] : files) {
    const bool mask =
        !mask_image_name(stem, [&](const std::string& n) { return n != stem && files.count(n) > 0; }).empty();
    if (!mask && !mask_image_name(stem, [&](const std::string& n) { return n != stem; }).empty())
      throw InputError(path, std::string("mask has no matching image (a mask is named as its image followed by ") +
                                 kSuffixes + ", and _1, _2, ... for further objects)");
    (mask ? masks : images).emplace(stem, path);
  }
  if (images.empty())
    throw InputError(root, "no images found: expected images/NAME.png (and masks/NAME.png), or images and their "
                           "NAME_mask.png masks in the folder or its subfolders");
  Dataset ds;
  ds.root = root;
  for (const auto& [name, path] : images) ds.samples.push_back({name, path, std::nullopt, {}});
  attach_masks(masks, ds);
  return ds;
}

}  // namespace

std::string mask_image_name(const std::string& mask_stem, const std::function<bool(const std::string&)>& is_image,
                            bool* numbered) {
  if (numbered) *numbered = false;
  if (is_image(mask_stem)) return mask_stem;
  std::string stem = mask_stem;
  for (int pass = 0; pass < 2; ++pass) {
    for (const char* suffix : {"_mask", "_segmentation", "_seg", "_label", "_gt"}) {
      const std::string_view sv(suffix);
      if (stem.size() > sv.size() && stem.ends_with(sv)) {
        const std::string name = stem.substr(0, stem.size() - sv.size());
        if (is_image(name)) {
          if (numbered) *numbered = pass == 1;
          return name;
        }
      }
    }
    if (pass == 0 && !strip_object_number(stem)) break;  // NAME_mask_2: a further object of NAME
  }
  return "";
}

Dataset scan_dataset(const fs::path& root) {
  if (!fs::exists(root)) throw InputError(root, "dataset folder not found");
  if (!fs::is_directory(root)) throw InputError(root, "not a folder");
  fs::path images = root / "images";
  if (!fs::is_directory(images)) return scan_side_by_side(root);
  std::map<std::string, fs::path> imgs;
  list_images(images, imgs);
  if (imgs.empty()) throw InputError(images, "no images found (empty folder or no supported file types)");
  Dataset ds;
  ds.root = root;
  for (const auto& [name, path] : imgs) ds.samples.push_back({name, path, std::nullopt, {}});
  std::map<std::string, fs::path> masks;
  if (fs::is_directory(root / "masks")) list_images(root / "masks", masks);
  attach_masks(masks, ds);
  return ds;
}

cv::Mat read_truth(const Sample& sample, cv::Size expected_size) {
  if (!sample.mask) throw InputError(sample.image, "image has no mask");
  cv::Mat truth = read_mask(*sample.mask, expected_size);
  for (const auto& more : sample.more_masks) truth |= read_mask(more, truth.size());
  return truth;
}

Dataset with_usable_masks(const Dataset& dataset, std::vector<std::string>* dropped,
                          const std::vector<std::string>& keep) {
  Dataset out = dataset;
  for (auto& s : out.samples) {
    if (!s.mask || std::find(keep.begin(), keep.end(), s.name) != keep.end()) continue;
    const cv::Size image = read_image_size(s.image);  // an unreadable image stays an error
    std::string problem;
    std::vector<fs::path> files{*s.mask};
    files.insert(files.end(), s.more_masks.begin(), s.more_masks.end());
    for (const auto& f : files) {
      try {
        const cv::Size mask = read_image_size(f);
        if (image != mask)
          problem = f.string() + ": mask is " + std::to_string(mask.width) + "x" + std::to_string(mask.height) +
                    " but its image is " + std::to_string(image.width) + "x" + std::to_string(image.height);
      } catch (const InputError& e) {
        problem = e.what();  // names the file
      }
      if (!problem.empty()) break;
    }
    if (problem.empty()) continue;
    if (dropped) dropped->push_back(problem);
    s.mask.reset();
    s.more_masks.clear();
  }
  return out;
}

fs::path default_data_root() {
  if (const char* env = std::getenv("SAMMPA_DATA"); env && *env) return env;
  return fs::path("..") / "shared" / "data";
}

}  // namespace sammpa
