#include "pipeline/resume.h"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "common/error.h"
#include "common/output_dir.h"
#include "io/image_io.h"

namespace fs = std::filesystem;

namespace sammpa {

namespace {

fs::path work(const fs::path& staging) { return staging / kWorkFolder; }

std::string file_stamp(const fs::path& f) {
  std::error_code ec;
  const auto size = fs::file_size(f, ec);
  const auto time = fs::last_write_time(f, ec).time_since_epoch().count();
  return f.filename().string() + " " + std::to_string(size) + " " + std::to_string(time);
}

}  // namespace

std::string dataset_fingerprint(const Dataset& ds) {
  std::string s = fs::absolute(ds.root).lexically_normal().string() + "\n";
  for (const auto& sample : ds.samples) {
    s += file_stamp(sample.image) + (sample.mask ? " | " + file_stamp(*sample.mask) : "");
    for (const auto& more : sample.more_masks) s += " + " + file_stamp(more);
    s += "\n";
  }
  return s;
}

std::string read_work_key(const fs::path& staging) {
  std::ifstream in(work(staging) / "key.txt", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_work_key(const fs::path& staging, const std::string& key) {
  fs::create_directories(work(staging) / "propagate");
  fs::create_directories(work(staging) / "segment");
  write_text_atomic(work(staging) / "key.txt", key);
}

void save_propagated_soft(const fs::path& staging, const std::string& name, const cv::Mat& soft) {
  // A float TIFF (lossless, compressed; the soft map is mostly 0) written under a temporary name, then renamed.
  const fs::path file = work(staging) / "propagate" / (name + ".soft.tiff");
  const fs::path tmp = work(staging) / "propagate" / (name + ".tmp.tiff");
  fs::create_directories(tmp.parent_path());
  if (!cv::imwrite(tmp.string(), soft)) throw std::runtime_error("cannot write " + tmp.string());
  fs::rename(tmp, file);
}

void save_propagated(const fs::path& staging, const QueryResult& q) {
  nlohmann::json supports = nlohmann::json::array();
  for (const auto& s : q.supports) {
    nlohmann::json j = {{"name", s.name}, {"affine_similarity", s.affine_similarity}};
    if (s.similarity) j["similarity"] = *s.similarity;
    if (s.dice) j["dice"] = *s.dice;
    supports.push_back(j);
  }
  write_json_atomic(work(staging) / "propagate" / (q.name + ".json"),
                    {{"name", q.name}, {"chosen", q.chosen}, {"seconds", q.seconds}, {"dice", q.dice},
                     {"supports", supports}});
}

CoarseInput load_coarse_input(const fs::path& staging, const std::string& name) {
  const fs::path soft = work(staging) / "propagate" / (name + ".soft.tiff");
  CoarseInput in;
  in.coarse = read_mask(staging / "coarse" / (name + ".png"));
  in.soft = cv::imread(soft.string(), cv::IMREAD_UNCHANGED);
  if (in.soft.type() != CV_32FC1 || in.soft.size() != in.coarse.size())
    throw std::runtime_error(soft.string() + ": the soft map step 2 wrote is missing or damaged");
  return in;
}

std::optional<QueryResult> load_propagated(const fs::path& staging, const std::string& name) {
  const fs::path record = work(staging) / "propagate" / (name + ".json");
  if (!fs::exists(record)) return std::nullopt;
  try {
    load_coarse_input(staging, name);  // the maps steps 3-4 will read must be there and whole
    std::ifstream in(record);
    const auto j = nlohmann::json::parse(in);
    QueryResult q;
    q.name = j.at("name").get<std::string>();
    q.chosen = j.at("chosen").get<std::string>();
    q.seconds = j.at("seconds").get<double>();
    q.dice = j.at("dice").get<std::map<std::string, double>>();
    for (const auto& s : j.at("supports")) {
      SupportResult r;
      r.name = s.at("name").get<std::string>();
      r.affine_similarity = s.at("affine_similarity").get<double>();
      if (s.contains("similarity")) r.similarity = s["similarity"].get<double>();
      if (s.contains("dice")) r.dice = s["dice"].get<double>();
      q.supports.push_back(r);
    }
    return q;
  } catch (const std::exception&) {  // a damaged record or map: the query is computed again
    return std::nullopt;
  }
}

fs::path segment_records(const fs::path& staging) { return work(staging) / "segment"; }

}  // namespace sammpa
