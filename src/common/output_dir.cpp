#include "common/output_dir.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace fs = std::filesystem;

namespace sammpa {

namespace {

fs::path resolved(const fs::path& p) { return fs::weakly_canonical(fs::absolute(p)); }

// True when `outer` is `inner` or one of its parent folders (both resolved).
bool contains(const fs::path& outer, const fs::path& inner) {
  auto o = outer.begin(), i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // trailing separator
    if (i == inner.end() || *o != *i) return false;
  }
  return true;
}

std::string hidden_sibling(const fs::path& target, const std::string& tag) {
  std::string name = ".";  // built step by step: GCC 12 warns falsely (-Wrestrict) on one long concatenation
  name += target.filename().string();
  name += tag;
  name += std::to_string(getpid());
  return name;
}

}  // namespace

void check_output_folder(const fs::path& target, const OutputPolicy& policy) {
  if (target.empty()) throw InputError("output folder: empty path");
  const fs::path t = resolved(target);
  if (t == t.root_path()) throw InputError(target, "refusing to write output into the filesystem root");
  if (contains(t, resolved(fs::current_path())))
    throw InputError(target, "refusing to use the current folder or one of its parents as the output folder; "
                             "name a new folder");
  for (const auto& in : policy.inputs)
    if (!in.empty() && contains(t, resolved(in)))
      throw InputError(target, "refusing to use it as the output folder: it holds the input " + in.string());
  if (!fs::exists(fs::symlink_status(target))) return;
  if (!fs::is_directory(t)) throw InputError(target, "exists and is not a folder");
  if (fs::is_empty(t)) return;
  if (!fs::exists(t / kOutputMarker))
    throw InputError(target, "is not empty and is not a sammpa output folder; refusing to touch it "
                             "(name a new or empty folder)");
  if (!policy.overwrite)
    throw InputError(target, "holds an earlier sammpa output; add --overwrite to replace it");
}

OutputDir::OutputDir(fs::path target, OutputPolicy policy) : target_(std::move(target)), policy_(std::move(policy)) {
  check_output_folder(target_, policy_);
  const fs::path parent = fs::absolute(target_).parent_path();
  for (fs::path p = parent; !p.empty() && !fs::exists(p) && p != p.parent_path(); p = p.parent_path())
    created_parents_.push_back(p);  // deepest first
  fs::create_directories(parent);
  staging_ = parent / hidden_sibling(fs::absolute(target_), ".partial-");
  fs::remove_all(staging_);
  fs::create_directories(staging_);
}

OutputDir::~OutputDir() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
    for (const auto& p : created_parents_) fs::remove(p, ec);  // only if still empty: removes no file
  }
}

fs::path OutputDir::path(const std::string& relative) const {
  fs::path p = staging_ / relative;
  fs::create_directories(p.parent_path());
  return p;
}

void OutputDir::commit() {
  if (committed_) return;
  write_text_atomic(staging_ / kOutputMarker,
                    "sammpa output folder: may be replaced by a later run with --overwrite\n");
  check_output_folder(target_, policy_);  // again: the folder may have changed while we worked
  fs::path old;
  if (fs::exists(fs::symlink_status(target_))) {
    old = fs::absolute(target_).parent_path() / hidden_sibling(fs::absolute(target_), ".old-");
    fs::rename(target_, old);
  }
  fs::rename(staging_, target_);
  committed_ = true;
  if (!old.empty()) fs::remove_all(old);
  std::error_code ec;
  for (const auto& dead : abandoned()) fs::remove_all(dead, ec);
}

void OutputDir::adopt(const fs::path& dead) {
  const auto all = abandoned();
  if (std::find(all.begin(), all.end(), dead) == all.end())
    throw std::logic_error("OutputDir::adopt: not an abandoned staging folder of this target: " + dead.string());
  fs::remove_all(staging_);
  fs::rename(dead, staging_);
}

std::vector<fs::path> OutputDir::abandoned() const {
  const fs::path parent = fs::absolute(target_).parent_path();
  std::string prefix = ".";
  prefix += fs::absolute(target_).filename().string();
  prefix += ".partial-";
  std::vector<std::pair<fs::file_time_type, fs::path>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || !e.is_directory() || e.path() == staging_) continue;
    const std::string pid = name.substr(prefix.size());
    if (pid.empty() || pid.size() > 9 || !std::all_of(pid.begin(), pid.end(), ::isdigit)) continue;
    if (kill(static_cast<pid_t>(std::stol(pid)), 0) == 0 || errno != ESRCH) continue;  // still running
    found.emplace_back(fs::last_write_time(e.path(), ec), e.path());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<fs::path> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
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
