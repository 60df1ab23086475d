#include "select/support_list.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"

namespace fs = std::filesystem;

namespace sammpa {

std::vector<std::string> read_support_list(const std::string& given) {
  return read_support_list_with_alternates(given).names;
}

SupportList read_support_list_with_alternates(const std::string& given) {
  std::string arg = given;
  std::error_code ec;  // a long list is no valid file name (ENAMETOOLONG): not a file, not an error
  if (fs::is_directory(given, ec)) {  // the output folder of `sammpa select` or `sammpa run`
    arg = (fs::path(given) / "support.json").string();
    if (!fs::exists(arg)) throw InputError(given, "folder holds no support.json (expected a `sammpa select` output)");
  }
  SupportList list;
  std::vector<std::string>& names = list.names;
  if (!fs::exists(arg, ec)) {  // a literal list: a,b,c
    if (arg.find('/') != std::string::npos || arg.ends_with(".json") || arg.ends_with(".txt"))
      throw InputError(arg, "support list file not found");
    std::stringstream ss(arg);
    for (std::string n; std::getline(ss, n, ',');)
      if (!n.empty()) names.push_back(n);
  } else if (arg.ends_with(".json")) {
    std::ifstream in(arg);
    nlohmann::json j;
    try {
      in >> j;
    } catch (const std::exception& e) {
      throw InputError(arg, std::string("invalid JSON: ") + e.what());
    }
    if (!j.is_object() || !j.contains("support") || !j["support"].is_array())
      throw InputError(arg, "no \"support\" array (expected the output of `sammpa select`)");
    for (size_t i = 0; i < j["support"].size(); ++i) {
      const auto& n = j["support"][i];
      if (!n.is_string() || n.get<std::string>().empty())
        throw InputError(arg, "\"support\" entry " + std::to_string(i) + " is " +
                                  (n.is_string() ? std::string("an empty string") : std::string("a ") + n.type_name()) +
                                  ", not an image name");
      names.push_back(n.get<std::string>());
    }
    if (j.contains("alternates")) {
      const auto& a = j["alternates"];
      auto names_only = [](const nlohmann::json& l) {
        return l.is_array() && std::all_of(l.begin(), l.end(), [](const auto& n) { return n.is_string(); });
      };
      if (!a.is_array() || a.size() != names.size() || !std::all_of(a.begin(), a.end(), names_only))
        throw InputError(arg, "\"alternates\" is not one list of image names per support");
      list.alternates = a.get<std::vector<std::vector<std::string>>>();
    }
    if (j.contains("set_aside")) {
      const auto& a = j["set_aside"];
      if (!a.is_array() || !std::all_of(a.begin(), a.end(), [](const auto& n) { return n.is_string(); }))
        throw InputError(arg, "\"set_aside\" is not a list of image names");
      list.set_aside = a.get<std::vector<std::string>>();
    }
  } else {
    std::ifstream in(arg);
    for (std::string line; std::getline(in, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty() && line[0] != '#') names.push_back(line);
    }
  }
  if (names.empty()) throw InputError(arg, "support list is empty");
  return list;
}

}  // namespace sammpa
