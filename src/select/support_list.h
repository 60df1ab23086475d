#pragma once
// The support set (images a person annotates) as a list of names, read from what `sammpa select` writes: its
// output folder (or a run folder: FOLDER/support.json), FILE.json ({"support": [...]}) or FILE.txt (one name
// per line), or a comma-separated list.
#include <filesystem>
#include <string>
#include <vector>

namespace sammpa {

std::vector<std::string> read_support_list(const std::string& file_or_list);

// The same, with each support's alternates (select.h) where a JSON list holds them ("alternates", one list per
// support), and the images a run set aside ("set_aside": annotated, without object; neither support nor query);
// empty otherwise.
struct SupportList {
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> alternates;
  std::vector<std::string> set_aside;
};
SupportList read_support_list_with_alternates(const std::string& file_or_list);

}  // namespace sammpa
