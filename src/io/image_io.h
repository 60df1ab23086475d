#pragma once
// Reading images and masks of any format ITK knows (PNG, JPEG, TIFF, BMP, NIfTI, MHA/MHD, NRRD, DICOM),
// 8- or 16-bit, grey or RGB(A), into 8-bit OpenCV matrices; writing PNGs atomically.
#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>

namespace sammpa {

// Largest image accepted (both checked on the header, before decoding): 16384 per side, 64 Mpixel in all.
inline constexpr uint64_t kMaxImageSide = 16384;
inline constexpr uint64_t kMaxImagePixels = uint64_t{1} << 26;

// An image as read: CV_8UC1 (grey) or CV_8UC3 (RGB channel order). Deeper data (16-bit, float) is
// rescaled linearly from its [min, max] to [0, 255].
cv::Mat read_image(const std::filesystem::path& file);

// Most non-zero grey levels of a mask read as a label map (read_mask).
inline constexpr int kMaskLabelLevels = 16;

// A binary mask: CV_8UC1 with values 0 or 255. A label map (at most kMaskLabelLevels non-zero grey levels, in
// any channel) has any non-zero pixel as foreground; a mask with more levels (saved as JPEG, smoothed edges) has
// the pixels above half its brightest level.
// If expected_size is non-empty, a different size is an InputError naming the file and both sizes.
cv::Mat read_mask(const std::filesystem::path& file, cv::Size expected_size = {});

// Reads only the header: width and height. Cheap; used to validate a folder before doing work.
cv::Size read_image_size(const std::filesystem::path& file);

cv::Mat to_grey(const cv::Mat& image);  // CV_8UC1
cv::Mat to_rgb(const cv::Mat& image);   // CV_8UC3, RGB order

// Writes a PNG (8- or 16-bit, 1 or 3 channels given in RGB order) via a temporary file and rename.
void write_png(const std::filesystem::path& file, const cv::Mat& image);

// File name extensions read_image accepts (lower case, with the dot; ".nii.gz" counts as one).
bool is_supported_image(const std::filesystem::path& file);
std::string strip_image_extension(const std::string& filename);

}  // namespace sammpa
