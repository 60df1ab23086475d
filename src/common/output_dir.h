#pragma once
// Output that never costs a user a file.
//
// OutputDir: files are written into a hidden staging folder next to the target, which is renamed onto the
// target only by commit(); if the program fails first the staging folder (and any parent folder made for it)
// is removed and nothing half-written is left behind. The target may be replaced only when it is empty, or
// when it is an earlier sammpa output (it holds the marker file that commit() writes) and the user asked for it
// (`overwrite`). Whatever the options, the current folder, the filesystem root, a protected input (the data
// folder, say) and any folder that contains one of them are refused before any work starts.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sammpa {

// The file commit() writes into every sammpa output folder; its presence is what makes a folder replaceable.
inline constexpr const char* kOutputMarker = ".sammpa-output";

struct OutputPolicy {
  bool overwrite = false;                     // replace an earlier sammpa output folder (or output file)
  std::vector<std::filesystem::path> inputs;  // never the target, never inside the target
};

class OutputDir {
 public:
  // Checks the target against the policy at once (InputError naming the folder and the reason).
  explicit OutputDir(std::filesystem::path target, OutputPolicy policy = {});
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  const std::filesystem::path& staging() const { return staging_; }
  const std::filesystem::path& target() const { return target_; }
  std::filesystem::path path(const std::string& relative) const;  // creates parent folders
  // Writes the marker, then moves the staging folder onto the target (an earlier output is removed only
  // after the new one is in place), and removes the staging folders of earlier runs that were killed.
  void commit();
  // Staging folders that earlier runs into the same target left behind when they were killed (SIGKILL, power
  // loss: no destructor ran): `.NAME.partial-PID` whose process no longer exists. Newest first.
  std::vector<std::filesystem::path> abandoned() const;
  // Continues in one of those (`--resume`): it becomes this run's staging folder, files and all.
  void adopt(const std::filesystem::path& abandoned);

 private:
  std::filesystem::path target_, staging_;
  std::vector<std::filesystem::path> created_parents_;  // made for the target; removed again if never committed
  OutputPolicy policy_;
  bool committed_ = false;
};

// Throws InputError when `target` may not be written as an output folder under `policy` (see OutputDir).
void check_output_folder(const std::filesystem::path& target, const OutputPolicy& policy);

// Writes a whole file atomically (temporary file in the same folder, then rename).
void write_text_atomic(const std::filesystem::path& file, const std::string& text);
void write_json_atomic(const std::filesystem::path& file, const nlohmann::json& j);

}  // namespace sammpa
