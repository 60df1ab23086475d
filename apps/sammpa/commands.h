#pragma once
// Subcommand registry: each cmd_*.cpp defines a static Command that adds its subcommand to the app.
// `order` sorts the subcommands in --help (the order of the method's steps).
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace sammpa::cli {

struct Command {
  int order;
  std::function<void(CLI::App&)> add;
  Command(int order, std::function<void(CLI::App&)> add);
};

std::vector<const Command*>& registry();

// The --overwrite flag every subcommand with an output has (same words everywhere).
inline CLI::Option* add_overwrite_flag(CLI::App* sub, bool& overwrite) {
  return sub->add_flag("--overwrite", overwrite,
                       "replace an earlier sammpa output at --out (a folder is replaced only if sammpa wrote it)");
}

// -t/--threads, the same words everywhere; every stage of the subcommand honours it (use_threads).
inline CLI::Option* add_threads_option(CLI::App* sub, int& threads) {
  return sub->add_option("-t,--threads", threads, "threads for every stage (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
}

// -s/--support, the same forms everywhere (read by read_support_list); `role` says what the subcommand does
// with the supports.
inline CLI::Option* add_support_option(CLI::App* sub, std::string& support, const std::string& role) {
  return sub->add_option("-s,--support", support,
                         "support images, " + role +
                             ": a `sammpa select` or `sammpa run` output folder, its support.json / support.txt, or "
                             "names separated by commas");
}

// --out of every subcommand names a folder. A file name (NAME.json, .txt, .csv: the form `select` and `eval`
// took before) is refused with the new form, rather than silently becoming a folder of that name.
std::string output_folder(const std::string& out);

// Sets the threads of the neural network's compute (OpenMP, used by oneDNN) when threads > 0; the other
// stages take the count as an argument.
void use_threads(int threads);

}  // namespace sammpa::cli
