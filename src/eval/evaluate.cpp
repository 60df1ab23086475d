#include "eval/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "common/error.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "io/image_io.h"

namespace fs = std::filesystem;

namespace sammpa {
namespace {

std::map<std::string, fs::path> list_predictions(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw InputError(dir, "prediction folder not found");
  std::map<std::string, fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || !is_supported_image(e.path())) continue;
    auto [it, inserted] = out.emplace(strip_image_extension(e.path().filename().string()), e.path());
    if (!inserted)
      throw InputError(e.path(), "two predictions for one name (also " + it->second.filename().string() + ")");
  }
  return out;
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json summary_json(const Summary& s, bool with_undefined) {
  nlohmann::json j = {{"n", s.n}, {"mean", number_or_null(s.mean)}, {"std", number_or_null(s.std)},
                      {"median", number_or_null(s.median)}};
  if (with_undefined) j["undefined"] = s.undefined;
  return j;
}

nlohmann::json scores_json(const ScoreSummary& s) {
  return {{"dice", summary_json(s.dice, false)},
          {"iou", summary_json(s.iou, false)},
          {"hd95", summary_json(s.hd95, true)}};
}

std::string table_row(const std::string& label, int width, const ScoreSummary& s) {
  auto cell = [](const Summary& m) {
    char buf[64];
    if (m.n == 0) return std::string("-");
    std::snprintf(buf, sizeof buf, "%.4f +- %.4f", m.mean, m.std);
    return std::string(buf);
  };
  char line[256];
  std::snprintf(line, sizeof line, "%-*s %5zu  %-18s %-18s %-18s %zu\n", width, label.c_str(),
                s.dice.n, cell(s.dice).c_str(),
                cell(s.iou).c_str(), cell(s.hd95).c_str(), s.hd95.undefined);
  return line;
}

}  // namespace

std::string name_prefix_group(const std::string& name) { return name.substr(0, name.find_first_of("_ (")); }

ScoreSummary summarize_scores(const std::vector<const ImageScore*>& images) {
  std::vector<std::optional<double>> dice, iou, hd;
  for (const auto* im : images) {
    dice.push_back(im->scores.dice);
    iou.push_back(im->scores.iou);
    hd.push_back(im->scores.hd95);
  }
  return {summarize(dice), summarize(iou), summarize(hd)};
}

EvalReport evaluate(const Dataset& ds, const EvalOptions& opt) {
  const auto predictions = list_predictions(opt.pred_dir);
  std::set<std::string> support;
  for (const auto& name : opt.support) {
    if (!ds.index_of(name)) throw InputError(ds.root, "support image '" + name + "' is not in the dataset");
    support.insert(name);
  }
  EvalReport report;
  report.excluded_groups = opt.exclude_groups;
  std::vector<const Sample*> queries;
  for (const auto& s : ds.samples) {
    if (support.count(s.name)) {
      ++report.support_skipped;
      continue;
    }
    if (!s.mask) throw InputError(ds.root / "masks", "no ground-truth mask for '" + s.name + "'");
    if (!predictions.count(s.name) && !opt.missing_as_empty)
      throw InputError(opt.pred_dir, "no prediction for query image '" + s.name + "' (expected " + s.name + ".png)");
    queries.push_back(&s);
  }
  if (queries.empty()) throw InputError(ds.root, "no query images to score (every image is in the support set)");

  report.images.resize(queries.size());
  Progress progress("eval", queries.size());
  parallel_for(queries.size(), opt.threads, [&](size_t i) {
    const Sample& s = *queries[i];
    cv::Mat truth = read_truth(s);
    cv::Mat pred;
    ImageScore& row = report.images[i];
    if (auto it = predictions.find(s.name); it != predictions.end()) {
      pred = read_mask(it->second);
      if (pred.size() != truth.size())
        throw InputError(it->second, "prediction is " + std::to_string(pred.cols) + "x" + std::to_string(pred.rows) +
                                         " but the ground-truth mask is " + std::to_string(truth.cols) + "x" +
                                         std::to_string(truth.rows));
    } else {
      pred = cv::Mat::zeros(truth.size(), CV_8UC1);
      row.missing_prediction = true;
    }
    row.name = s.name;
    row.group = opt.group_by_prefix ? name_prefix_group(s.name) : "all";
    row.scores = score_masks(pred, truth);
    progress.tick();
  });
  progress.finish();

  std::vector<const ImageScore*> overall;
  std::map<std::string, std::vector<const ImageScore*>> by_group;
  for (const auto& row : report.images) {
    report.missing_predictions += row.missing_prediction;
    by_group[row.group].push_back(&row);
    if (std::find(opt.exclude_groups.begin(), opt.exclude_groups.end(), row.group) == opt.exclude_groups.end())
      overall.push_back(&row);
  }
  for (const auto& g : opt.exclude_groups)
    if (!by_group.count(g)) {
      std::string known;
      for (const auto& [name, rows] : by_group) known += (known.empty() ? "" : ", ") + name;
      throw InputError("--exclude-groups", "no query image is in group '" + g + "' (groups: " + known + ")");
    }
  report.overall = summarize_scores(overall);
  if (opt.group_by_prefix)
    for (const auto& [group, rows] : by_group) report.groups.emplace_back(group, summarize_scores(rows));
  return report;
}

nlohmann::json report_json(const EvalReport& r) {
  nlohmann::json images = nlohmann::json::array();
  for (const auto& im : r.images) {
    nlohmann::json row = {{"name", im.name}, {"group", im.group}, {"dice", im.scores.dice}, {"iou", im.scores.iou},
                          {"hd95", im.scores.hd95 ? nlohmann::json(*im.scores.hd95) : nlohmann::json(nullptr)}};
    if (im.missing_prediction) row["missing_prediction"] = true;
    images.push_back(std::move(row));
  }
  nlohmann::json groups = nlohmann::json::object();
  for (const auto& [name, s] : r.groups) groups[name] = scores_json(s);
  return {{"overall", scores_json(r.overall)}, {"groups", groups},          {"excluded_groups", r.excluded_groups},
          {"support_skipped", r.support_skipped}, {"missing_predictions", r.missing_predictions}, {"images", images}};
}

std::string report_csv(const EvalReport& r) {
  std::string out = "name,group,dice,iou,hd95\n";
  char buf[64];
  for (const auto& im : r.images) {
    out += im.name + "," + im.group;
    std::snprintf(buf, sizeof buf, ",%.6f,%.6f,", im.scores.dice, im.scores.iou);
    out += buf;
    if (im.scores.hd95) {
      std::snprintf(buf, sizeof buf, "%.6f", *im.scores.hd95);
      out += buf;
    }
    out += "\n";
  }
  return out;
}

std::string report_table(const EvalReport& r) {
  std::string overall = "overall";
  if (!r.excluded_groups.empty()) {
    overall += " (without";
    for (const auto& g : r.excluded_groups) overall += " " + g;
    overall += ")";
  }
  size_t width = overall.size();
  for (const auto& g : r.groups) width = std::max(width, g.first.size());
  const int w = static_cast<int>(std::min<size_t>(width, 60));
  char header[256];
  std::snprintf(header, sizeof header, "%-*s %5s  %-18s %-18s %-18s %s\n", w, "group", "n", "Dice mean +- std",
                "IoU mean +- std", "HD95 mean +- std", "HD95 undefined");
  std::string out = header;
  for (const auto& [name, s] : r.groups) out += table_row(name, w, s);
  out += table_row(overall, w, r.overall);
  return out;
}

}  // namespace sammpa
