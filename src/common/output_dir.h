#pragma once
// All-or-nothing output: files are written into a hidden staging folder next to the target, which is
// renamed onto the target only by commit(). If the program fails first, the staging folder is removed
// and nothing half-written is left behind.
#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace sammpa {

class OutputDir {
 public:
  // overwrite: replace an existing target; otherwise an existing non-empty target is an error.
  explicit OutputDir(std::filesystem::path target, bool overwrite = true);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  const std::filesystem::path& staging() const { return staging_; }
  std::filesystem::path path(const std::string& relative) const;  // creates parent folders
  void commit();

 private:
  std::filesystem::path target_, staging_;
  bool committed_ = false;
};

// Writes a whole file atomically (temporary file in the same folder, then rename).
void write_text_atomic(const std::filesystem::path& file, const std::string& text);
void write_json_atomic(const std::filesystem::path& file, const nlohmann::json& j);

}  // namespace sammpa
