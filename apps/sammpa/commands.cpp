#include "commands.h"

namespace sammpa::cli {

std::vector<const Command*>& registry() {
  static std::vector<const Command*> r;
  return r;
}

Command::Command(int o, std::function<void(CLI::App&)> a) : order(o), add(std::move(a)) { registry().push_back(this); }

}  // namespace sammpa::cli
