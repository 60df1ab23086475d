#pragma once
// The support set (images a person annotates) as a list of names, read from what `sammpa select` writes: its
// output folder (or a run folder: FOLDER/support.json), FILE.json ({"support": [...]}) or FILE.txt (one name
// per line), or a comma-separated list.
#include <filesystem>
#include <string>
#include <vector>

namespace sammpa {

std::vector<std::string> read_support_list(const std::string& file_or_list);

}  // namespace sammpa
