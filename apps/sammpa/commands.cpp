#include "commands.h"

#include <omp.h>

#include <filesystem>

#include "common/error.h"

namespace sammpa::cli {

std::vector<const Command*>& registry() {
  static std::vector<const Command*> r;
  return r;
}

Command::Command(int o, std::function<void(CLI::App&)> a) : order(o), add(std::move(a)) { registry().push_back(this); }

std::string output_folder(const std::string& out) {
  const std::string ext = std::filesystem::path(out).extension().string();
  if (ext == ".json" || ext == ".txt" || ext == ".csv")
    throw InputError("--out", "names a folder now, not a file (got '" + out + "'); give e.g. '" +
                                  std::filesystem::path(out).replace_extension().string() + "'");
  return out;
}

void use_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}

}  // namespace sammpa::cli
