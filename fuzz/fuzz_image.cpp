// The image reader (ITK's PNG, JPEG, TIFF, BMP, NIfTI, MetaImage, NRRD and DICOM readers behind read_image).
// The first byte chooses the file name extension, which decides the ITK reader tried first; the rest is the file.
#include <array>
#include <exception>

#include "fuzz_common.h"
#include "io/image_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::array<const char*, 8> kExtensions = {".png", ".jpg", ".bmp", ".tif",
                                                         ".nii", ".mha", ".nrrd", ".dcm"};
  if (size < 1) return 0;
  const auto file = sammpa::fuzz::input_file(data + 1, size - 1, kExtensions[data[0] % kExtensions.size()]);
  try {
    sammpa::read_image_size(file);
    sammpa::read_image(file);
  } catch (const std::exception&) {
  }
  return 0;
}
