#include "common/output_dir.h"

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace fs = std::filesystem;

namespace sammpa {

OutputDir::OutputDir(fs::path target, bool overwrite) : target_(std::move(target)) {
  if (target_.empty()) throw InputError("output folder: empty path");
  if (fs::exists(target_) && !fs::is_directory(target_))
    throw InputError(target_, "exists and is not a folder");
  if (!overwrite && fs::exists(target_) && !fs::is_empty(target_))
    throw InputError(target_, "output folder exists and is not empty (use --force to replace it)");
  fs::path parent = fs::absolute(target_).parent_path();
  fs::create_directories(parent);
  std::string hidden = ".";  // built step by step: GCC 12 warns falsely (-Wrestrict) on one long concatenation
  hidden += fs::absolute(target_).filename().string();
  hidden += ".partial-";
  hidden += std::to_string(getpid());
  staging_ = parent / hidden;
  fs::remove_all(staging_);
  fs::create_directories(staging_);
}

OutputDir::~OutputDir() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
}

fs::path OutputDir::path(const std::string& relative) const {
  fs::path p = staging_ / relative;
  fs::create_directories(p.parent_path());
  return p;
}

void OutputDir::commit() {
  if (committed_) return;
  if (fs::exists(target_)) fs::remove_all(target_);
  fs::rename(staging_, target_);
  committed_ = true;
}

void write_text_atomic(const fs::path& file, const std::string& text) {
  if (file.has_parent_path()) fs::create_directories(file.parent_path());
  fs::path tmp = file;
  tmp += ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw InputError(file, "cannot open for writing");
    out << text;
    if (!out) throw InputError(file, "write failed");
  }
  fs::rename(tmp, file);
}

void write_json_atomic(const fs::path& file, const nlohmann::json& j) { write_text_atomic(file, j.dump(2) + "\n"); }

}  // namespace sammpa
