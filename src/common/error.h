#pragma once
// Errors that a user can act on: bad input files, bad options. The CLI prints the message on one line
// and exits non-zero; the message always names the file (or option) and the problem.
#include <filesystem>
#include <stdexcept>
#include <string>

namespace sammpa {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  InputError(const std::filesystem::path& file, const std::string& problem)
      : std::runtime_error(file.string() + ": " + problem) {}
};

}  // namespace sammpa
