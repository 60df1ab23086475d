#pragma once
// A dataset folder: images/NAME.ext and, optionally, masks/NAME.ext (any supported format for either); or, as
// public data sets are often shipped (the original BUSI: benign/"benign (1).png" beside "benign (1)_mask.png"),
// images and their NAME_mask files in the folder or in its subfolders one level down.
#include <filesystem>
#include <functional>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sammpa {

struct Sample {
  std::string name;
  std::filesystem::path image;
  std::optional<std::filesystem::path> mask;
  // Further mask files of the image, one object each (NAME_mask_1, NAME_mask_2, ... as the original BUSI has
  // for images with several lesions): the truth is their union with `mask` (read_truth).
  std::vector<std::filesystem::path> more_masks;
};

struct Dataset {
  std::filesystem::path root;
  std::vector<Sample> samples;  // sorted by name

  const Sample& at(const std::string& name) const;  // InputError if absent
  std::optional<size_t> index_of(const std::string& name) const;
  size_t size() const { return samples.size(); }
};

// Lists a dataset folder. Errors (InputError): missing folder, no images, two image files with the same NAME,
// a mask with no image, two masks for one image (numbered ones aside). Does not decode pixels.
Dataset scan_dataset(const std::filesystem::path& root);

// The image a mask file belongs to, from its name without extension: the same name, or the name followed by
// _mask, _segmentation, _seg, _label or _gt (as public data sets name theirs: ISIC's _segmentation, the original
// BUSI's _mask), optionally then _N for a further object (`numbered`). Empty when no image matches.
std::string mask_image_name(const std::string& mask_stem, const std::function<bool(const std::string&)>& is_image,
                            bool* numbered = nullptr);

// A sample's true mask at the image's size: `mask` united with `more_masks`. The sample must have a mask.
cv::Mat read_truth(const Sample& sample, cv::Size expected_size = {});

// The dataset without the masks that cannot be used: a mask whose size differs from its image's, or whose
// header cannot be read. Each one dropped gets a line in `dropped` ("FILE: the problem"). For a run, where a
// query's mask only serves scoring and pictures, one bad file should not cost the whole run. The masks of
// `keep` (the supports) are left as they are: reading them gives the error. Reads headers only.
Dataset with_usable_masks(const Dataset& dataset, std::vector<std::string>* dropped,
                          const std::vector<std::string>& keep = {});

// The folder holding the shared real data (../shared/data by default), overridable with SAMMPA_DATA.
std::filesystem::path default_data_root();

}  // namespace sammpa
