#include "io/image_io.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <vector>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "itkImageFileReader.h"
#include "itkImageIOFactory.h"
#include "itkVectorImage.h"

namespace fs = std::filesystem;

namespace sammpa {
namespace {

constexpr std::array<const char*, 13> kExtensions = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".nii",
                                                     ".nii.gz", ".mha", ".mhd", ".nrrd", ".dcm", ".nhdr"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string first_line(const std::string& s) {
  // ITK's descriptions are long and multi-line; keep the part after the location, on one line.
  std::string d = s;
  std::replace(d.begin(), d.end(), '\n', ' ');
  if (d.size() > 200) d = d.substr(0, 200) + "...";
  return d;
}

// Decompression bombs: a small compressed file can claim a huge image. Refused before any pixel is decoded.
void check_limits(const fs::path& file, uint64_t w, uint64_t h) {
  if (w == 0 || h == 0) throw InputError(file, "image has no pixels");
  if (w > kMaxImageSide || h > kMaxImageSide || w * h > kMaxImagePixels)
    throw InputError(file, "image of " + std::to_string(w) + "x" + std::to_string(h) +
                               " pixels is too large (at most " +
                               std::to_string(kMaxImageSide) + " per side and " + std::to_string(kMaxImagePixels) +
                               " pixels)");
}

// ITK 5.2's PNG reader lets libpng abort() the process on a corrupt header or data chunk (a bad CRC is enough:
// found by fuzz/fuzz_image.cpp). So a PNG is first decoded by OpenCV, whose libpng calls recover, after its
// header's size has been checked against the limits (OpenCV would allocate whatever the header claims).
void check_png(const fs::path& file) {
  std::array<unsigned char, 24> head{};
  {
    std::ifstream in(file, std::ios::binary);
    in.read(reinterpret_cast<char*>(head.data()), head.size());
    const bool full = in.gcount() == static_cast<std::streamsize>(head.size());
    if (!full || std::string(head.begin() + 12, head.begin() + 16) != "IHDR")
      throw InputError(file, "corrupt PNG: no image header (IHDR) where the format puts it");
  }
  auto be32 = [&](size_t at) {
    return uint64_t{head[at]} << 24 | uint64_t{head[at + 1]} << 16 | uint64_t{head[at + 2]} << 8 | head[at + 3];
  };
  const uint64_t w = be32(16), h = be32(20);
  check_limits(file, w, h);
  bool ok = false;
  try {
    ok = !cv::imread(file.string(), cv::IMREAD_UNCHANGED).empty();
  } catch (const cv::Exception&) {
  }
  if (!ok) throw InputError(file, "corrupt PNG: libpng cannot decode it (bad checksum, truncated or malformed chunk)");
}

// ITK 5.2's MetaImage reader loops for minutes over a negative or huge "NDims" (it reads that many numbers for
// every per-axis field), and reads past its buffer on header bytes outside printable ASCII (found by
// fuzz/fuzz_image.cpp). The header is plain "Key = Value" text lines: check them before ITK parses.
void check_metaimage_header(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string line;
  for (size_t read = 0; read < (size_t{1} << 16) && std::getline(in, line); read += line.size() + 1) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const bool text =
        std::all_of(line.begin(), line.end(), [](unsigned char c) { return c == '\t' || (c >= 32 && c < 127); });
    if (!text || line.size() > 1024)
      throw InputError(file, "corrupt MetaImage header: a header line is not plain text of at most 1024 characters");
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    key.erase(std::remove_if(key.begin(), key.end(), [](unsigned char c) { return std::isspace(c); }), key.end());
    if (lower(key) == "elementdatafile") {  // the header ends here
      // A file-name pattern ("slice%03d.raw") or LIST names a series of slices (3-D), and ITK's MetaIO reads
      // past its buffer expanding a pattern (found by fuzz/fuzz_image.cpp): 2-D images name one file or LOCAL.
      std::istringstream value(line.substr(eq + 1));
      std::string first;
      value >> first;
      if (line.find('%', eq) != std::string::npos || lower(first) == "list")
        throw InputError(file, "MetaImage file series (a data file pattern with %, or LIST) are not supported: "
                               "one 2-D image per file");
      return;
    }
    if (lower(key) != "ndims") continue;
    std::istringstream value(line.substr(eq + 1));
    long n = 0;
    if (!(value >> n) || n < 1 || n > 16)
      throw InputError(file, "corrupt MetaImage header: NDims must be a whole number from 1 to 16, not '" +
                                 line.substr(eq + 1, 20) + "'");
  }
}

void check_file(const fs::path& file) {
  if (!fs::exists(file)) throw InputError(file, "file not found");
  if (fs::is_directory(file)) throw InputError(file, "is a folder, not an image file");
  if (fs::file_size(file) == 0) throw InputError(file, "empty file");
}

// TIFF is read by OpenCV (libtiff), not ITK: ITK 5.2's TIFF reader reads past a tag's buffer while it collects
// the tags of a malformed file (found by fuzz/fuzz_image.cpp). The size comes from the first directory's
// ImageWidth and ImageLength, read here, so that the limits apply before OpenCV allocates.
bool is_tiff(const fs::path& file) {
  std::array<char, 4> m{};
  std::ifstream(file, std::ios::binary).read(m.data(), m.size());
  const std::string magic(m.begin(), m.end());
  return magic == std::string("II*\0", 4) || magic == std::string("MM\0*", 4);
}

cv::Size tiff_size(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::array<unsigned char, 8> head{};
  in.read(reinterpret_cast<char*>(head.data()), head.size());
  const bool little = head[0] == 'I';
  auto num = [&](const unsigned char* p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t{p[little ? i : bytes - 1 - i]} << (8 * i);
    return v;
  };
  uint64_t w = 0, h = 0;
  const uint64_t ifd = num(head.data() + 4, 4);
  std::array<unsigned char, 2> count{};
  in.seekg(static_cast<std::streamoff>(ifd));
  in.read(reinterpret_cast<char*>(count.data()), 2);
  const uint64_t n = in ? num(count.data(), 2) : 0;
  for (uint64_t i = 0; i < n && in; ++i) {
    std::array<unsigned char, 12> e{};
    if (!in.read(reinterpret_cast<char*>(e.data()), e.size())) break;
    const uint64_t tag = num(e.data(), 2), type = num(e.data() + 2, 2);
    const uint64_t value = type == 3 ? num(e.data() + 8, 2) : type == 4 ? num(e.data() + 8, 4) : 0;
    if (tag == 256) w = value;
    if (tag == 257) h = value;
  }
  if (w == 0 || h == 0) throw InputError(file, "corrupt TIFF: no image width and length in its first directory");
  check_limits(file, w, h);
  return {static_cast<int>(w), static_cast<int>(h)};
}

itk::ImageIOBase::Pointer open_io(const fs::path& file) {
  check_file(file);
  auto io = itk::ImageIOFactory::CreateImageIO(file.c_str(), itk::CommonEnums::IOFileMode::ReadMode);
  if (!io) throw InputError(file, "not a readable image (unknown or corrupt format)");
  const std::string kind = io->GetNameOfClass();
  if (kind == "PNGImageIO") check_png(file);
  if (kind == "MetaImageIO") check_metaimage_header(file);
  io->SetFileName(file.string());
  try {
    io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    throw InputError(file, "corrupt image header: " + first_line(e.GetDescription()));
  }
  const unsigned dims = io->GetNumberOfDimensions();
  if (dims < 2) throw InputError(file, "image has fewer than 2 dimensions");
  const uint64_t w = io->GetDimensions(0), h = io->GetDimensions(1);
  check_limits(file, w, h);
  return io;
}

void check_2d(const fs::path& file, const itk::ImageIOBase& io) {
  unsigned dims = io.GetNumberOfDimensions();
  for (unsigned d = 2; d < dims; ++d)
    if (io.GetDimensions(d) > 1)
      throw InputError(file, "is a " + std::to_string(dims) + "-D image with " + std::to_string(io.GetDimensions(d)) +
                                 " slices along axis " + std::to_string(d) + "; only 2-D images are supported");
}

}  // namespace

bool is_supported_image(const fs::path& file) {
  std::string name = lower(file.filename().string());
  for (const char* ext : kExtensions) {
    std::string e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) return true;
  }
  return false;
}

std::string strip_image_extension(const std::string& filename) {
  std::string l = lower(filename);
  if (l.size() > 7 && l.ends_with(".nii.gz")) return filename.substr(0, filename.size() - 7);
  auto dot = filename.find_last_of('.');
  return dot == std::string::npos ? filename : filename.substr(0, dot);
}

cv::Size read_image_size(const fs::path& file) {
  check_file(file);
  if (is_tiff(file)) return tiff_size(file);
  auto io = open_io(file);
  check_2d(file, *io);
  return {static_cast<int>(io->GetDimensions(0)), static_cast<int>(io->GetDimensions(1))};
}

namespace {

// BMP and TIFF pixels are decoded by OpenCV: ITK 5.2's BMP reader writes past its buffer on a malformed file (a
// heap overflow found by fuzz/fuzz_image.cpp). The result follows the ITK path's rules: RGB order, grey(+alpha)
// keeps the first channel, deeper data rescaled from its [min, max] to [0, 255].
cv::Mat decode_with_opencv(const fs::path& file, cv::Size expected) {
  cv::Mat m;
  try {
    m = cv::imread(file.string(), cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception&) {
  }
  if (m.empty()) throw InputError(file, "cannot decode image data (truncated or corrupt)");
  if (m.size() != expected) throw InputError(file, "corrupt image: its header and its pixel data disagree on the size");
  std::vector<cv::Mat> ch;
  cv::split(m, ch);
  if (ch.size() == 2 || ch.size() > 4) ch.resize(1);
  if (ch.size() >= 3) ch = {ch[2], ch[1], ch[0]};  // OpenCV's BGR(A) to RGB
  cv::Mat rgb;
  cv::merge(ch, rgb);
  if (rgb.depth() == CV_8U) return rgb;
  cv::Mat f;
  rgb.convertTo(f, CV_32F);
  double lo = 0, hi = 0;
  cv::minMaxLoc(f.reshape(1), &lo, &hi);
  if (!(hi > lo)) hi = lo + 1;
  const float scale = static_cast<float>(255.0 / (hi - lo));
  cv::Mat out(f.size(), CV_MAKETYPE(CV_8U, f.channels()));
  const float* src = f.ptr<float>();
  uint8_t* dst = out.ptr<uint8_t>();
  for (size_t i = 0; i < f.total() * f.channels(); ++i)
    dst[i] = static_cast<uint8_t>(std::clamp((src[i] - static_cast<float>(lo)) * scale + 0.5f, 0.f, 255.f));
  return out;
}

}  // namespace

cv::Mat read_image(const fs::path& file) {
  check_file(file);
  if (is_tiff(file)) return decode_with_opencv(file, tiff_size(file));
  auto io = open_io(file);
  check_2d(file, *io);
  if (std::string(io->GetNameOfClass()) == "BMPImageIO")
    return decode_with_opencv(file, {static_cast<int>(io->GetDimensions(0)), static_cast<int>(io->GetDimensions(1))});
  const unsigned comps = io->GetNumberOfComponents();
  if (comps != 1 && comps != 2 && comps != 3 && comps != 4)
    throw InputError(file, "unsupported number of channels: " + std::to_string(comps));
  const auto ctype = io->GetComponentType();
  const bool is8bit = ctype == itk::IOComponentEnum::UCHAR;

  using Image = itk::VectorImage<float, 2>;
  auto reader = itk::ImageFileReader<Image>::New();
  reader->SetFileName(file.string());
  reader->SetImageIO(io);
  try {
    reader->Update();
  } catch (const itk::ExceptionObject& e) {
    throw InputError(file, "cannot decode image data (truncated or corrupt): " + first_line(e.GetDescription()));
  }
  Image::Pointer img = reader->GetOutput();
  auto size = img->GetLargestPossibleRegion().GetSize();
  const int w = static_cast<int>(size[0]), h = static_cast<int>(size[1]);
  if (w <= 0 || h <= 0) throw InputError(file, "image has no pixels");
  const unsigned nc = img->GetNumberOfComponentsPerPixel();
  const float* src = img->GetBufferPointer();
  const size_t n = static_cast<size_t>(w) * h;

  // Colour images (3 or 4 components) keep RGB; grey(+alpha) keeps the first component.
  const int out_c = nc >= 3 ? 3 : 1;
  float lo = 0.f, hi = 255.f;
  if (!is8bit) {
    lo = std::numeric_limits<float>::max();
    hi = std::numeric_limits<float>::lowest();
    for (size_t i = 0; i < n; ++i)
      for (int c = 0; c < out_c; ++c) {
        float v = src[i * nc + c];
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    if (!(hi > lo)) hi = lo + 1.f;
  }
  const float scale = 255.f / (hi - lo);
  cv::Mat out(h, w, out_c == 3 ? CV_8UC3 : CV_8UC1);
  for (int y = 0; y < h; ++y) {
    uint8_t* row = out.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      const float* p = src + (static_cast<size_t>(y) * w + x) * nc;
      for (int c = 0; c < out_c; ++c) {
        float v = is8bit ? p[c] : (p[c] - lo) * scale;
        row[x * out_c + c] = static_cast<uint8_t>(std::clamp(v + (is8bit ? 0.f : 0.5f), 0.f, 255.f));
      }
    }
  }
  return out;
}

cv::Mat read_mask(const fs::path& file, cv::Size expected_size) {
  cv::Mat m = read_image(file);
  if (!expected_size.empty() && m.size() != expected_size)
    throw InputError(file, "mask is " + std::to_string(m.cols) + "x" + std::to_string(m.rows) +
                               " but its image is " + std::to_string(expected_size.width) + "x" +
                               std::to_string(expected_size.height));
  cv::Mat grey = m.channels() == 1 ? m : [&] {
    std::vector<cv::Mat> ch;
    cv::split(m, ch);
    return cv::Mat(cv::max(cv::max(ch[0], ch[1]), ch[2]));
  }();
  // A label map (0/1, 0/255, a few class labels) has a handful of grey levels: any label is the object. A mask
  // saved as JPEG or with smoothed edges has many, and its faint halo around the object (JPEG's ringing: about
  // a tenth of the object's area at quality 90) is not object: there the object is what lies above half the
  // brightest level.
  int hist[256] = {};
  for (int y = 0; y < grey.rows; ++y) {
    const uint8_t* row = grey.ptr<uint8_t>(y);
    for (int x = 0; x < grey.cols; ++x) ++hist[row[x]];
  }
  int levels = 0, top = 0;
  for (int v = 1; v < 256; ++v)
    if (hist[v]) ++levels, top = v;
  cv::Mat bin;
  cv::compare(grey, levels > kMaskLabelLevels ? top / 2 : 0, bin, cv::CMP_GT);  // 0 or 255
  return bin;
}

cv::Mat to_grey(const cv::Mat& image) {
  if (image.channels() == 1) return image;
  cv::Mat g;
  cv::cvtColor(image, g, cv::COLOR_RGB2GRAY);
  return g;
}

cv::Mat to_rgb(const cv::Mat& image) {
  if (image.channels() == 3) return image;
  cv::Mat c;
  cv::cvtColor(image, c, cv::COLOR_GRAY2RGB);
  return c;
}

void write_png(const fs::path& file, const cv::Mat& image) {
  if (file.has_parent_path()) fs::create_directories(file.parent_path());
  fs::path tmp = file;
  tmp += ".tmp-" + std::to_string(getpid()) + ".png";
  cv::Mat bgr = image;
  if (image.channels() == 3) cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
  if (!cv::imwrite(tmp.string(), bgr)) throw InputError(file, "cannot write PNG");
  fs::rename(tmp, file);
}

}  // namespace sammpa
