#include "commands.h"

#include <omp.h>

namespace sammpa::cli {

std::vector<const Command*>& registry() {
  static std::vector<const Command*> r;
  return r;
}

Command::Command(int o, std::function<void(CLI::App&)> a) : order(o), add(std::move(a)) { registry().push_back(this); }

void use_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}

}  // namespace sammpa::cli
