#pragma once
// Shared by the libFuzzer targets: the readers under test take file paths, so each input is written to a
// per-process temporary file first. Any exception derived from std::exception is a clean rejection; crashes,
// sanitizer reports, hangs and out-of-memory are what the fuzzer looks for.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace sammpa::fuzz {

inline std::filesystem::path input_file(const uint8_t* data, size_t size, const std::string& extension) {
  const auto file = std::filesystem::temp_directory_path() / ("sammpa-fuzz-" + std::to_string(getpid()) + extension);
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                 static_cast<std::streamsize>(size));
  return file;
}

}  // namespace sammpa::fuzz
