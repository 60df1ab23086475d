#include "report/report.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/output_dir.h"
#include "io/dataset.h"
#include "io/image_io.h"
#include "io/overlay.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sammpa {

namespace {

constexpr int kThumbSide = 256;  // gallery thumbnails: a 1000-image run stays light in the browser

std::optional<json> read_json(const fs::path& file) {
  if (!fs::exists(file)) return std::nullopt;
  std::ifstream in(file);
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw InputError(file, std::string("not valid JSON: ") + e.what());
  }
}

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string url(const std::string& s) {  // a file name as a relative URL
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string num(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// A <td> that shows a rounded number and carries the exact one (data-value), for checks and copying.
std::string cell(const json& stats, const std::string& key, const std::string& id) {
  if (!stats.contains(key) || !stats[key].contains("mean") || !stats[key]["mean"].is_number()) return "<td>-</td>";
  const double mean = stats[key]["mean"].get<double>(), sd = stats[key].value("std", 0.0);
  const int digits = key == "hd95" ? 1 : 3;
  char full[64];
  std::snprintf(full, sizeof full, "%.17g", mean);
  return "<td data-key=\"" + esc(id) + "\" data-value=\"" + full + "\">" + num(mean, digits) + " &plusmn; " +
         num(sd, digits) + "</td>";
}

// Writes a JPEG of at most kThumbSide per side under dir; returns its path relative to the run folder.
std::string thumbnail(const cv::Mat& rgb, const fs::path& run, const std::string& stem) {
  const double s = std::min(1.0, static_cast<double>(kThumbSide) / std::max(rgb.cols, rgb.rows));
  cv::Mat small, bgr;
  const cv::Size size(std::max(1, static_cast<int>(rgb.cols * s)), std::max(1, static_cast<int>(rgb.rows * s)));
  cv::resize(rgb, small, size, 0, 0, cv::INTER_AREA);
  if (small.channels() == 3) cv::cvtColor(small, bgr, cv::COLOR_RGB2BGR); else bgr = small;
  const std::string rel = "report/" + stem + ".jpg";
  cv::imwrite((run / rel).string(), bgr, {cv::IMWRITE_JPEG_QUALITY, 85});
  return rel;
}

// One small histogram of Dice in [0, 1] (20 bins) per group, as inline SVG.
std::string histograms_svg(const std::map<std::string, std::vector<double>>& by_group) {
  std::ostringstream o;
  const int w = 320, h = 110, bins = 20;
  for (const auto& [group, values] : by_group) {
    std::vector<int> count(bins, 0);
    for (double v : values) ++count[std::clamp(static_cast<int>(v * bins), 0, bins - 1)];
    const int top = std::max(1, *std::max_element(count.begin(), count.end()));
    o << "<figure class=\"plot\"><svg width=\"" << w << "\" height=\"" << h + 20 << "\" role=\"img\">";
    for (int b = 0; b < bins; ++b) {
      const double bh = static_cast<double>(count[b]) / top * h;
      o << "<rect x=\"" << b * w / bins + 1 << "\" y=\"" << num(h - bh, 1) << "\" width=\"" << w / bins - 2
        << "\" height=\"" << num(bh, 1) << "\" fill=\"#e07b00\"><title>" << num(b / 20.0, 2) << "-"
        << num((b + 1) / 20.0, 2) << ": " << count[b] << "</title></rect>";
    }
    o << "<line x1=\"0\" y1=\"" << h << "\" x2=\"" << w << "\" y2=\"" << h << "\" stroke=\"#444\"/>"
      << "<text x=\"0\" y=\"" << h + 15 << "\">0</text><text x=\"" << w - 10 << "\" y=\"" << h + 15
      << "\">1</text></svg><figcaption>" << esc(group) << ": final Dice of " << values.size()
      << " images (highest bar " << top << ")</figcaption></figure>\n";
  }
  return o.str();
}

// Coarse against final Dice per image; points above the diagonal were improved by steps 3-4.
std::string scatter_svg(const std::vector<std::pair<double, double>>& points) {
  std::ostringstream o;
  const int s = 300;
  o << "<figure class=\"plot\"><svg width=\"" << s + 10 << "\" height=\"" << s + 10 << "\" role=\"img\">"
    << "<rect x=\"5\" y=\"5\" width=\"" << s << "\" height=\"" << s << "\" fill=\"none\" stroke=\"#444\"/>"
    << "<line x1=\"5\" y1=\"" << s + 5 << "\" x2=\"" << s + 5 << "\" y2=\"5\" stroke=\"#aaa\"/>";
  for (const auto& [c, f] : points)
    o << "<circle cx=\"" << num(5 + c * s, 1) << "\" cy=\"" << num(5 + (1 - f) * s, 1)
      << "\" r=\"2\" fill=\"#1f6fb4\" fill-opacity=\"0.6\"/>";
  o << "</svg><figcaption>coarse Dice (x) against final Dice (y), one dot per query image</figcaption></figure>\n";
  return o.str();
}

struct Score {
  double value;
  int truth;  // 1 object, 0 none, -1 unknown
};

// The queries' best scores as a histogram (30 bins, stacked by ground truth), the supports' held-out scores as
// ticks under the axis, the threshold as a dashed line.
std::string score_histogram_svg(const std::vector<Score>& scores, const std::vector<Score>& supports,
                                std::optional<double> threshold) {
  std::ostringstream o;
  double lo = 1e300, hi = -1e300;
  for (const auto* set : {&scores, &supports})
    for (const auto& v : *set) lo = std::min(lo, v.value), hi = std::max(hi, v.value);
  if (threshold) lo = std::min(lo, *threshold), hi = std::max(hi, *threshold);
  const double pad = std::max(1e-6, 0.05 * (hi - lo));
  lo -= pad;
  hi += pad;
  const int w = 480, h = 120, bins = 30;
  auto x_of = [&](double v) { return (v - lo) / (hi - lo) * w; };
  std::vector<std::array<int, 3>> count(bins, {0, 0, 0});  // object, none, unknown
  for (const auto& v : scores) {
    const int bin = std::clamp(static_cast<int>((v.value - lo) / (hi - lo) * bins), 0, bins - 1);
    ++count[bin][v.truth == 1 ? 0 : v.truth == 0 ? 1 : 2];
  }
  int top = 1;
  for (const auto& c : count) top = std::max(top, c[0] + c[1] + c[2]);
  const char* colour[3] = {"#e07b00", "#888888", "#1f6fb4"};
  o << "<figure class=\"plot\"><svg width=\"" << w << "\" height=\"" << h + 40 << "\" role=\"img\">";
  for (int b = 0; b < bins; ++b) {
    double y = h;
    for (int k = 0; k < 3; ++k) {
      if (!count[b][k]) continue;
      const double bh = static_cast<double>(count[b][k]) / top * h;
      y -= bh;
      o << "<rect x=\"" << num(b * static_cast<double>(w) / bins + 1, 1) << "\" y=\"" << num(y, 1) << "\" width=\""
        << num(static_cast<double>(w) / bins - 2, 1) << "\" height=\"" << num(bh, 1) << "\" fill=\"" << colour[k]
        << "\"><title>" << count[b][k] << "</title></rect>";
    }
  }
  o << "<line x1=\"0\" y1=\"" << h << "\" x2=\"" << w << "\" y2=\"" << h << "\" stroke=\"#444\"/>";
  for (const auto& sp : supports)  // the supports' held-out scores: ticks under the axis
    o << "<line x1=\"" << num(x_of(sp.value), 1) << "\" y1=\"" << h + 3 << "\" x2=\"" << num(x_of(sp.value), 1)
      << "\" y2=\"" << h + 15 << "\" stroke=\"" << colour[sp.truth == 1 ? 0 : 1] << "\" stroke-width=\"2\"/>";
  if (threshold)
    o << "<line x1=\"" << num(x_of(*threshold), 1) << "\" y1=\"0\" x2=\"" << num(x_of(*threshold), 1) << "\" y2=\""
      << h + 15 << "\" stroke=\"#c00\" stroke-dasharray=\"4 3\"/>";
  o << "<text x=\"0\" y=\"" << h + 32 << "\">" << num(lo) << "</text><text x=\"" << w << "\" y=\"" << h + 32
    << "\" text-anchor=\"end\">" << num(hi) << "</text></svg><figcaption>best score of each query (" << scores.size()
    << "): orange, ground truth with an object; grey, without; blue, no ground truth. Ticks under the axis: the "
       "supports' held-out scores (same colours). Red dashes: the threshold.</figcaption></figure>\n";
  return o.str();
}

// The ranked mode's ridge penalty, how it was chosen and the curve it was chosen on (ranker.json "penalty"), so
// that a person can see whether the choice was clear or the curve flat.
std::string penalty_section(const json& ranker) {
  if (!ranker.contains("penalty") || !ranker["penalty"].is_object()) return "";
  const json& p = ranker["penalty"];
  const std::string rule = p.value("rule", std::string());
  const std::string how =
      rule == "one support: candidates left out, one standard error"
          ? "by leaving each of the support's candidates out in turn: the strongest penalty whose held-out squared "
            "error is within one standard error of the least"
      : rule == "error" ? "by leave-one-out on the supports: the least held-out squared error of the predicted IoU"
      : rule == "dice"  ? "by leave-one-out on the supports: the best mean held-out Dice"
                        : "as given (<code>--ranked-penalty</code>)";
  auto g = [](double v) {  // penalties as written: 0.01, 0.3, 10
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return std::string(buf);
  };
  std::ostringstream o;
  o << "<h2 id=\"ranker\">The ranker</h2>\n<p data-penalty=\"" << g(p.value("chosen", 0.0))
    << "\">Ridge penalty " << g(p.value("chosen", 0.0)) << " per candidate, chosen " << how << ".";
  const json candidates = p.value("candidates", json::array());
  auto curve = [&](const char* key, const char* what) {
    const json v = p.value(key, json::array());
    if (v.size() < 2 || v.size() != candidates.size()) return;
    o << " " << what << ":";
    for (size_t i = 0; i < v.size(); ++i)
      o << (i ? ", " : " ") << g(candidates[i].get<double>()) << " &rarr; " << num(v[i].get<double>(), 4);
    o << ".";
  };
  curve("leave_one_out_squared_error", "Held-out squared error per penalty");
  curve("leave_one_out_mean_dice", "Mean held-out Dice per penalty");
  o << "</p>\n";
  return o.str();
}

// The ranked mode's "no object" answers: a histogram of each query's best score (stacked by whether its ground
// truth holds an object, where known), the threshold used, and the supports' held-out scores as ticks below the
// axis, so that a person can see whether the threshold falls between the two groups or among the objects.
std::string no_object_section(const json& ranker, const json& segment, const std::optional<Dataset>& data) {
  std::vector<Score> scores;
  size_t unscored = 0, answered_empty = 0;
  for (const auto& q : segment.value("queries", json::array())) {
    std::optional<double> v;
    if (q.contains("answered_empty")) v = q["answered_empty"]["score"].get<double>();
    else if (!q.value("objects", json::array()).empty() && q["objects"][0].contains("agreement"))
      v = q["objects"][0]["agreement"].get<double>();
    const bool empty = q.contains("answered_empty") || q.value("objects", json::array()).empty();
    answered_empty += empty;
    if (!v) {
      ++unscored;
      continue;
    }
    int truth = -1;
    const std::string name = q.value("name", std::string());
    if (data && data->index_of(name) && data->at(name).mask) {
      truth = cv::countNonZero(read_truth(data->at(name))) > 0;
    }
    scores.push_back({*v, truth});
  }
  const json none = json(nullptr);
  const json& from = ranker.contains("empty_from_queries") ? ranker["empty_from_queries"] : none;
  std::optional<double> threshold;
  const json& below = ranker.contains("ranker") ? ranker["ranker"].value("empty_below", none) : none;
  if (below.is_number()) threshold = below.get<double>();
  std::vector<Score> supports;
  for (const auto& sp : ranker.value("supports", json::array()))
    if (sp.contains("held_out_score") && sp["held_out_score"].is_number())
      supports.push_back({sp["held_out_score"].get<double>(), sp.value("empty_truth", false) ? 0 : 1});
  if (scores.empty() && supports.empty()) return "";

  std::ostringstream o;
  const std::string rule = ranker.value("empty_answers", std::string("auto"));
  o << "<h2 id=\"no-object\">No object</h2>\n<p data-threshold=\""
    << (threshold ? num(*threshold, 6) : std::string("none")) << "\" data-answered-empty=\"" << answered_empty
    << "\">The ranked mode answers &ldquo;no object&rdquo; when a query's best candidate scores below a threshold "
       "(<code>--ranked-empty "
    << esc(rule) << "</code>). ";
  if (threshold) {
    const std::string source = from.is_object() ? from.value("source", std::string("supports")) : "supports";
    o << "Threshold " << num(*threshold) << ", from the "
      << (source == "queries" ? "queries' own" : "supports' held-out") << " scores; " << answered_empty << " of "
      << segment.value("queries", json::array()).size() << " queries answered empty.";
    if (from.is_object() && from.contains("rejected_mixture")) {
      const json& rm = from["rejected_mixture"];
      if (rm.value("reason", std::string("threshold")) == "share") {
        json iv = rm.value("supports_share_interval", json::array({0.0, 1.0}));
        if (!iv.is_array() || iv.size() != 2 || !iv[0].is_number() || !iv[1].is_number()) iv = json::array({0.0, 1.0});
        o << " The queries' mixture was refused: it put a share of " << num(rm.value("weight_without_object", 0.0))
          << " of the images in its &ldquo;no object&rdquo; group, outside the 95% interval of the supports' share ("
          << num(iv[0].get<double>()) << "&ndash;" << num(iv[1].get<double>()) << ").";
      } else {
        o << " The queries' mixture was refused: its threshold " << num(rm.value("threshold", 0.0)) << " lay above "
          << rm.value("supports_with_object_below", 0) << " of the " << rm.value("supports_with_object", 0)
          << " supports with an object.";
      }
    }
  } else if (from.is_object() && from.contains("rejected_supports_threshold")) {
    const json& rs = from["rejected_supports_threshold"];
    o << "No threshold: the supports' held-out threshold " << num(rs.value("threshold", 0.0)) << " would have answered "
      << rs.value("queries_below", 0) << " of " << rs.value("queries_scored", 0)
      << " queries empty, more than the supports' own share (" << rs.value("supports_without_object", 0) << " of "
      << rs.value("supports", 0) << " without the object) makes plausible (Fisher's exact test: "
      << num(rs.value("probability", 0.0), 4) << "), so every query keeps its best candidate.";
  } else {
    o << "No threshold: a query is answered empty only where SAM proposed no candidate.";
  }
  if (threshold && answered_empty > 0)
    o << " Each query answered empty keeps the mask it declined in <code>declined/</code> (outlined in magenta below), "
         "for you to take where the answer is wrong.";
  o << " Where every image holds the object, <code>--ranked-empty never</code> keeps each query's best candidate.";
  if (unscored) o << " " << unscored << " queries have no recorded score.";
  o << "</p>\n";

  o << score_histogram_svg(scores, supports, threshold);
  return o.str();
}

}  // namespace

ReportSummary write_report(const fs::path& run) {
  const auto run_json = read_json(run / "run.json");
  if (!run_json) throw InputError(run, "not a sammpa run folder (no run.json)");
  const json& r = *run_json;
  const auto eval = read_json(run / "eval.json"), eval_coarse = read_json(run / "eval_coarse.json");
  const auto segment = read_json(run / "segment.json"), self_config = read_json(run / "self_config.json");
  ReportSummary summary;
  summary.scored = eval.has_value();
  fs::remove_all(run / "report");
  fs::create_directories(run / "report");

  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sammpa run: "
    << esc(r.value("dataset", std::string("?"))) << "</title>\n<style>"
    << "body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
    << "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}"
    << ".grid{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0;width:" << kThumbSide << "px}"
    << "figure.plot{width:auto;display:inline-block;margin-right:1em}figcaption{font-size:12px}"
    << "img{max-width:" << kThumbSide << "px;display:block}"
    << "code{font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}"
    << "</style></head><body>\n";
  h << "<h1>sammpa run</h1>\n<h2>Settings</h2>\n<table>";
  auto row = [&](const std::string& k, const std::string& v) {
    h << "<tr><th>" << k << "</th><td>" << v << "</td></tr>";
  };
  row("data set", esc(r.value("dataset", std::string("?"))) + " (" + std::to_string(r.value("images", 0)) + " images)");
  const std::vector<std::string> support = r.value("support", std::vector<std::string>{});
  std::string names;
  for (const auto& n : support) names += (names.empty() ? "" : ", ") + esc(n);
  row("supports (K = " + std::to_string(support.size()) + ")", names);
  if (r.contains("select")) {
    std::string aside;
    for (const auto& n : r["select"].value("set_aside", std::vector<std::string>{}))
      aside += (aside.empty() ? "" : ", ") + esc(n);
    if (!aside.empty()) row("set aside (annotated, no object; not scored)", aside);
    row("selection", "<code>" + esc(r["select"].dump()) + "</code>");
  }
  row("propagation", esc(r.value("propagation", std::string("?"))) + " (asked: " +
                         esc(r.value("propagation_asked", std::string("?"))) + ")");
  if (r.contains("checkpoint")) row("checkpoint", esc(r["checkpoint"].get<std::string>()));
  if (r.contains("prompt")) row("prompts", "<code>" + esc(r["prompt"].dump()) + "</code>");
  if (r.contains("refine")) row("refinement", "<code>" + esc(r["refine"].dump()) + "</code>");
  if (r.contains("seconds"))
    for (const auto& [step, s] : r["seconds"].items())
      if (s.is_number()) row("time: " + esc(step), num(s.get<double>(), 1) + " s");
  h << "</table>\n";

  if (self_config && self_config->contains("modes")) {
    const bool steps_3_4 = self_config->value("steps_3_4", true);
    h << "<h2>Self-configuration</h2>\n<p>Leave-one-out on the supports: each support segmented from the "
         "others, mean Dice of the coarse (step 2) and final (steps 3-4) masks per mode over every support, "
         "and the score compared: over the supports with an object, the ranked mode without its \"no object\" "
         "answers; the best was used unless its lead was within one standard error (then registration, "
         "else the ranked mode over feature propagation or the fused soft maps)"
      << (steps_3_4 ? "" : ": the chosen mode's coarse masks, which steps 3-4 made worse on the supports")
      << ".</p>\n";
    if (self_config->contains("why")) h << "<p>" << esc(self_config->value("why", std::string())) << ".</p>\n";
    h << "<table><tr><th>mode</th><th>mean coarse Dice</th><th>mean final Dice</th><th>compared</th></tr>";
    for (const auto& [mode, m] : (*self_config)["modes"].items())
      h << "<tr><td>" << esc(mode) << (self_config->value("chosen", std::string()) == mode ? " (chosen)" : "")
        << "</td><td>" << (mode == "ranked" ? std::string("-") : num(m.value("mean_coarse_dice", 0.0)))
        << "</td><td>" << num(m.value("mean_final_dice", 0.0)) << "</td><td>"
        << (m.contains("compared") ? num(m.value("compared", 0.0)) : std::string("-")) << "</td></tr>";
    h << "</table>\n";
  }

  if (r.contains("propagation_why") && !(self_config && self_config->contains("modes")))
    h << "<h2>Self-configuration</h2>\n<p>" << esc(r.value("propagation_why", std::string())) << ".</p>\n";

  std::optional<Dataset> data;
  try {
    data = with_usable_masks(scan_dataset(r.value("dataset", std::string())), nullptr);  // as the run saw it
  } catch (const std::exception&) {  // moved or removed: the support names are listed above
  }
  const auto ranker = read_json(run / "ranker.json");
  if (ranker && segment && r.value("propagation", std::string()) == "ranked")
    h << penalty_section(*ranker) << no_object_section(*ranker, *segment, data);

  h << "<h2>Supports</h2>\n<div class=\"grid\">";
  for (const auto& n : support) {
    h << "<figure>";
    if (data && data->index_of(n) && data->at(n).mask) {
      const cv::Mat img = read_image(data->at(n).image);
      const cv::Mat mask = read_truth(data->at(n), img.size());
      h << "<img loading=\"lazy\" alt=\"" << esc(n) << "\" src=\""
        << url(thumbnail(draw_overlay(img, mask), run, "support_" + n)) << "\">";
      ++summary.thumbnails;
    }
    h << "<figcaption>" << esc(n) << "</figcaption></figure>";
  }
  h << "</div>\n";

  // Per-image scores and confidences.
  std::map<std::string, json> final_of, coarse_of;
  if (eval) for (const auto& im : (*eval)["images"]) final_of[im["name"].get<std::string>()] = im;
  if (eval_coarse) for (const auto& im : (*eval_coarse)["images"]) coarse_of[im["name"].get<std::string>()] = im;
  std::map<std::string, double> confidence;
  std::set<std::string> declined;  // answered "no object": the declined mask is outlined in the overlay
  std::vector<std::string> queries;
  if (segment) {
    for (const auto& q : (*segment)["queries"]) {
      queries.push_back(q["name"].get<std::string>());
      confidence[queries.back()] = q.value("confidence", 0.0);
      if (q.contains("answered_empty")) declined.insert(queries.back());
    }
  } else {
    for (const auto& [n, _] : final_of) queries.push_back(n);
  }

  if (eval) {
    h << "<h2>Scores (query images only; supports are never scored)</h2>\n<table><tr><th>group</th><th>images</th>"
         "<th>coarse Dice</th><th>final Dice</th><th>final IoU</th><th>final HD95 (px)</th></tr>";
    auto score_row = [&](const std::string& name, const json& fin, const json* coarse, const std::string& id) {
      h << "<tr><td>" << esc(name) << "</td><td>" << fin["dice"].value("n", 0) << "</td>"
        << (coarse ? cell(*coarse, "dice", "coarse." + id + ".dice") : "<td>-</td>")
        << cell(fin, "dice", "final." + id + ".dice") << cell(fin, "iou", "final." + id + ".iou")
        << cell(fin, "hd95", "final." + id + ".hd95") << "</tr>";
    };
    for (const auto& [g, fin] : (*eval)["groups"].items()) {
      const json* coarse = eval_coarse && (*eval_coarse)["groups"].contains(g) ? &(*eval_coarse)["groups"][g] : nullptr;
      score_row(g, fin, coarse, "groups." + g);
    }
    score_row("all", (*eval)["overall"], eval_coarse ? &(*eval_coarse)["overall"] : nullptr, "overall");
    h << "</table>\n<h2>Plots</h2>\n";
    std::map<std::string, std::vector<double>> by_group;
    std::vector<std::pair<double, double>> pairs;
    for (const auto& [n, im] : final_of) {
      if (!im["dice"].is_number()) continue;
      by_group[im.value("group", std::string("all"))].push_back(im["dice"].get<double>());
      if (coarse_of.count(n) && coarse_of[n]["dice"].is_number())
        pairs.emplace_back(coarse_of[n]["dice"].get<double>(), im["dice"].get<double>());
    }
    h << histograms_svg(by_group) << (pairs.empty() ? "" : scatter_svg(pairs));
  }

  // Gallery: worst final Dice first with ground truth, else least confident first.
  auto key = [&](const std::string& n) {
    if (final_of.count(n) && final_of[n]["dice"].is_number()) return final_of[n]["dice"].get<double>();
    return confidence.count(n) ? confidence[n] : 0.0;
  };
  std::stable_sort(queries.begin(), queries.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
  h << "<h2>Query images (" << queries.size() << ", " << (eval ? "worst final Dice first" : "least confident first")
    << ")</h2>\n<p>Orange: final mask; cyan outline: coarse mask; green: ground truth; yellow: boxes; green and red "
       "dots: positive and negative points; magenta outline: the mask a \"no object\" answer declined (kept in "
       "declined/).</p>\n<div class=\"grid\">";
  for (const auto& n : queries) {
    h << "<figure data-name=\"" << esc(n) << "\">";
    const fs::path overlay = run / "overlay" / (n + ".png");
    if (fs::exists(overlay)) {
      h << "<img loading=\"lazy\" alt=\"" << esc(n) << "\" src=\"" << url(thumbnail(read_image(overlay), run, n))
        << "\">";
      ++summary.thumbnails;
    }
    h << "<figcaption>" << esc(n);
    if (final_of.count(n) && final_of[n]["dice"].is_number()) {
      h << " &middot; Dice " << num(final_of[n]["dice"].get<double>());
      if (coarse_of.count(n) && coarse_of[n]["dice"].is_number())
        h << " (coarse " << num(coarse_of[n]["dice"].get<double>()) << ")";
    }
    if (confidence.count(n)) h << " &middot; confidence " << num(confidence[n], 2);
    if (declined.count(n)) h << " &middot; answered &ldquo;no object&rdquo;";
    h << "</figcaption></figure>\n";
  }
  h << "</div>\n</body></html>\n";
  summary.queries = queries.size();
  write_text_atomic(run / "report.html", h.str());
  return summary;
}

}  // namespace sammpa
