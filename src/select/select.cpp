#include "select/select.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>

#include "common/error.h"
#include "common/output_dir.h"
#include "select/kmeans.h"

namespace fs = std::filesystem;

namespace sammpa {
namespace {

Selection select_random(const Dataset& ds, const SelectOptions& opt) {
  std::mt19937_64 rng(opt.seed);
  std::vector<size_t> order(ds.size());
  std::iota(order.begin(), order.end(), 0);
  // Partial Fisher-Yates shuffle: the first k slots are a uniform sample without replacement.
  // The draws after the k-th are the alternates, so the support itself does not depend on how many there are.
  const size_t k = static_cast<size_t>(opt.k), drawn = std::min(order.size(), k * (1 + kAlternates));
  for (size_t i = 0; i < drawn; ++i) {
    const size_t j = i + static_cast<size_t>(uniform01(rng()) * static_cast<double>(order.size() - i));
    std::swap(order[i], order[j]);
  }
  Selection s;
  for (size_t i = 0; i < k; ++i) s.support.push_back(ds.samples[order[i]].name);
  std::sort(s.support.begin(), s.support.end());
  s.alternates.resize(k);
  for (size_t i = k; i < drawn; ++i) s.alternates[(i - k) % k].push_back(ds.samples[order[i]].name);
  return s;
}

Selection select_kcentroid(const Dataset& ds, const SelectOptions& opt, const cv::Mat& features) {
  if (static_cast<size_t>(features.rows) != ds.size())
    throw std::logic_error("select: " + std::to_string(features.rows) + " feature rows for " +
                           std::to_string(ds.size()) + " images");
  KMeansResult km = kmeans(features, {opt.k, opt.seed, 300, opt.threads});
  std::vector<int> order(opt.k);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (km.sizes[a] != km.sizes[b]) return km.sizes[a] > km.sizes[b];
    return ds.samples[km.medoids[a]].name < ds.samples[km.medoids[b]].name;
  });
  Selection s;
  std::vector<int> rank(opt.k);
  for (int r = 0; r < opt.k; ++r) {
    rank[order[r]] = r;
    s.support.push_back(ds.samples[km.medoids[order[r]]].name);
    s.cluster_sizes.push_back(km.sizes[order[r]]);
  }
  for (int label : km.labels) s.cluster_of.push_back(rank[label]);
  s.iterations = km.iterations;
  s.inertia = km.inertia;
  // Each cluster's other members, nearest its centroid first (ties by index), the medoid being the nearest.
  std::vector<std::vector<std::pair<double, size_t>>> members(opt.k);
  cv::Mat f64;
  features.convertTo(f64, CV_64F);
  for (size_t i = 0; i < km.labels.size(); ++i) {
    const int c = km.labels[i];
    if (i != km.medoids[c]) members[rank[c]].push_back({cv::norm(f64.row(static_cast<int>(i)), km.centroids.row(c),
                                                                 cv::NORM_L2SQR), i});
  }
  for (auto& m : members) {
    const size_t n = std::min(m.size(), kAlternates);
    std::partial_sort(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(n), m.end());
    s.alternates.emplace_back();
    for (size_t j = 0; j < n; ++j) s.alternates.back().push_back(ds.samples[m[j].second].name);
  }
  return s;
}

void check_k(const Dataset& ds, const SelectOptions& opt) {
  if (opt.k < 1) throw InputError("--k", "must be at least 1 (got " + std::to_string(opt.k) + ")");
  if (ds.size() == 0) throw InputError(ds.root, "no images to select from");
  if (static_cast<size_t>(opt.k) > ds.size())
    throw InputError(ds.root, "cannot select K=" + std::to_string(opt.k) + " examples: the folder has only " +
                                  std::to_string(ds.size()) + " images");
}

}  // namespace

SelectStrategy parse_select_strategy(const std::string& name) {
  if (name == "kcentroid") return SelectStrategy::KCentroid;
  if (name == "random") return SelectStrategy::Random;
  throw InputError("--strategy", "unknown strategy '" + name + "' (known: kcentroid, random)");
}

std::string select_strategy_name(SelectStrategy s) { return s == SelectStrategy::Random ? "random" : "kcentroid"; }

Selection select_examples(const Dataset& ds, const SelectOptions& opt) {
  check_k(ds, opt);
  if (opt.strategy == SelectStrategy::Random) return select_random(ds, opt);
  return select_kcentroid(ds, opt, dataset_features(ds, opt.features, opt.threads));
}

Selection select_examples(const Dataset& ds, const SelectOptions& opt, const cv::Mat& features) {
  check_k(ds, opt);
  return opt.strategy == SelectStrategy::Random ? select_random(ds, opt) : select_kcentroid(ds, opt, features);
}

std::vector<std::string> select_support(const Dataset& ds, const SelectOptions& opt) {
  return select_examples(ds, opt).support;
}

nlohmann::json selection_json(const Dataset& ds, const SelectOptions& opt, const Selection& s) {
  return {{"strategy", select_strategy_name(opt.strategy)},
          {"k", opt.k},
          {"seed", opt.seed},
          {"features", opt.strategy == SelectStrategy::Random ? nlohmann::json(nullptr)
                                                              : nlohmann::json(feature_kind_name(opt.features))},
          {"support", s.support},
          {"cluster_sizes", s.cluster_sizes},
          {"inertia", opt.strategy == SelectStrategy::Random ? nlohmann::json(nullptr) : nlohmann::json(s.inertia)},
          {"alternates", s.alternates},
          {"dataset", fs::absolute(ds.root).lexically_normal().string()}};
}

void write_selection(const fs::path& json_file, const nlohmann::json& selection) {
  if (json_file.extension() != ".json") throw InputError(json_file, "--out must name a .json file");
  fs::path txt = json_file;
  txt.replace_extension(".txt");
  std::string lines;
  for (const auto& n : selection.at("support")) lines += n.get<std::string>() + "\n";
  write_json_atomic(json_file, selection);
  try {
    write_text_atomic(txt, lines);
  } catch (...) {
    std::error_code ec;
    fs::remove(json_file, ec);
    throw;
  }
}

}  // namespace sammpa
