// report.html of a run folder: every picture it shows exists, its numbers are eval.json's, the gallery puts the
// worst image first (or the least confident one without ground truth), and it needs no script or network.
#include <nlohmann/json.hpp>

#include "common/output_dir.h"
#include "io/image_io.h"
#include "io/phantom.h"
#include "report/report.h"
#include "test_support.h"

using namespace sammpa;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A run folder as `sammpa run` leaves it, with chosen scores: phantom_000 is the support, 001-005 the queries.
void write_run(const fs::path& data, const fs::path& run, bool scored) {
  write_phantom_dataset(data, {6, 64, 2});
  fs::create_directories(run / "overlay");
  const std::vector<double> final_dice = {0.9, 0.5, 0.95, 0.7, 0.85}, coarse_dice = {0.8, 0.6, 0.9, 0.2, 0.85};
  const std::vector<double> confidence = {0.3, 0.9, 0.1, 0.6, 0.8};
  json images = json::array(), coarse_images = json::array(), queries = json::array();
  for (int i = 0; i < 5; ++i) {
    const std::string name = "phantom_00" + std::to_string(i + 1);
    images.push_back({{"name", name}, {"group", "phantom"}, {"dice", final_dice[i]}, {"iou", 0.5}, {"hd95", 3.0}});
    coarse_images.push_back({{"name", name}, {"group", "phantom"}, {"dice", coarse_dice[i]}});
    queries.push_back({{"name", name}, {"confidence", confidence[i]}, {"objects", json::array()}});
    write_png(run / "overlay" / (name + ".png"), cv::Mat(40, 60, CV_8UC3, cv::Scalar(10 * i, 100, 200)));
  }
  auto stats = [](double mean) {
    return json{{"dice", {{"mean", mean}, {"std", 0.1}, {"n", 5}}}, {"iou", {{"mean", 0.5}, {"std", 0.0}, {"n", 5}}},
                {"hd95", {{"mean", 3.0}, {"std", 0.0}, {"n", 5}}}};
  };
  write_json_atomic(run / "run.json", {{"dataset", fs::absolute(data).string()}, {"images", 6},
                                       {"support", {"phantom_000"}}, {"propagation", "registration"},
                                       {"propagation_asked", "auto"}, {"seconds", {{"select", 0.25}}}});
  write_json_atomic(run / "segment.json", {{"queries", queries}});
  if (!scored) return;
  write_json_atomic(run / "eval.json", {{"groups", {{"phantom", stats(0.78)}}}, {"overall", stats(0.7812345678901234)},
                                        {"images", images}});
  write_json_atomic(run / "eval_coarse.json", {{"groups", {{"phantom", stats(0.67)}}}, {"overall", stats(0.67)},
                                               {"images", coarse_images}});
}

// write_run's scored run under DIR, made a ranked-mode run.
void write_ranked_run(const fs::path& dir) {
  write_run(dir / "data", dir / "run", true);
  json run = json::parse(test::read_text(dir / "run/run.json"));
  run["propagation"] = "ranked";
  write_json_atomic(dir / "run/run.json", run);
}

// The quoted values that follow each occurrence of `prefix` (e.g. `src="`), in order.
std::vector<std::string> values_after(const std::string& html, const std::string& prefix) {
  std::vector<std::string> out;
  for (size_t at = html.find(prefix); at != std::string::npos; at = html.find(prefix, at + 1)) {
    const size_t begin = at + prefix.size();
    out.push_back(html.substr(begin, html.find('"', begin) - begin));
  }
  return out;
}

std::vector<std::string> gallery_order(const std::string& html) {
  return values_after(html, "<figure data-name=\"");
}

}  // namespace

TEST(Report, PicturesExistNumbersAreEvalsAndWorstComesFirst) {
  test::TempDir dir;
  write_run(dir / "data", dir / "run", true);
  const ReportSummary s = write_report(dir / "run");
  EXPECT_EQ(s.queries, 5u);
  EXPECT_EQ(s.thumbnails, 6u);  // five overlays and the support
  const std::string html = test::read_text(dir / "run/report.html");
  // Every picture is a file of the run folder, small enough for a gallery of thousands.
  const std::vector<std::string> pictures = values_after(html, "src=\"");
  for (const auto& src : pictures) {
    const fs::path file = dir / "run" / src;
    ASSERT_TRUE(fs::exists(file)) << file;
    const cv::Size size = read_image_size(file);
    EXPECT_LE(std::max(size.width, size.height), 256) << file;
  }
  EXPECT_EQ(pictures.size(), 6u);
  // The table carries eval.json's exact numbers.
  const auto overall = values_after(html, "data-key=\"final.overall.dice\" data-value=\"");
  ASSERT_EQ(overall.size(), 1u);
  EXPECT_EQ(std::stod(overall[0]), 0.7812345678901234);
  EXPECT_NE(html.find("data-key=\"coarse.groups.phantom.dice\""), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);  // the plots
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);  // nothing to fetch
  EXPECT_EQ(gallery_order(html),
            (std::vector<std::string>{"phantom_002", "phantom_004", "phantom_005", "phantom_001", "phantom_003"}));
}

TEST(Report, WithoutGroundTruthTheLeastConfidentComeFirst) {
  test::TempDir dir;
  write_run(dir / "data", dir / "run", false);
  write_report(dir / "run");
  const std::string html = test::read_text(dir / "run/report.html");
  EXPECT_EQ(gallery_order(html),
            (std::vector<std::string>{"phantom_003", "phantom_001", "phantom_004", "phantom_005", "phantom_002"}));
  EXPECT_NE(html.find("least confident first"), std::string::npos);
}

// A ranked run: the "no object" section shows each query's best score against the threshold, with the supports'
// held-out scores as ticks, and says when the queries' mixture was refused.
TEST(Report, RankedRunsShowTheNoObjectThreshold) {
  test::TempDir dir;
  write_ranked_run(dir.path());
  const std::vector<double> score = {0.1, 0.3, 0.05, 0.25, 0.35};
  json queries = json::array();
  for (int i = 0; i < 5; ++i) {
    const std::string name = "phantom_00" + std::to_string(i + 1);
    json q = {{"name", name}, {"confidence", score[i]}, {"objects", json::array()}};
    if (score[i] < 0.2) q["answered_empty"] = {{"score", score[i]}, {"threshold", 0.2}};
    else q["objects"].push_back({{"agreement", score[i]}});
    queries.push_back(q);
  }
  write_json_atomic(dir / "run/segment.json", {{"queries", queries}});
  json ranker = {{"ranker", {{"empty_below", 0.2}}},
                 {"empty_answers", "auto"},
                 {"empty_from_queries", {{"source", "supports"}, {"threshold", 0.2},
                                         {"rejected_mixture", {{"threshold", 0.32},
                                                               {"supports_with_object_below", 2},
                                                               {"supports_with_object", 2}}}}},
                 {"supports", {{{"name", "phantom_000"}, {"empty_truth", false}, {"held_out_score", 0.28}},
                               {{"name", "x"}, {"empty_truth", true}, {"held_out_score", 0.12}},
                               {{"name", "y"}, {"empty_truth", false}, {"held_out_score", 0.31}}}}};
  write_json_atomic(dir / "run/ranker.json", ranker);
  write_report(dir / "run");
  const std::string html = test::read_text(dir / "run/report.html");
  const size_t at = html.find("<h2 id=\"no-object\">");
  ASSERT_NE(at, std::string::npos);
  const std::string section = html.substr(at, html.find("</figure>", at) - at);
  EXPECT_EQ(values_after(section, "data-threshold=\""), std::vector<std::string>{"0.200000"});
  EXPECT_EQ(values_after(section, "data-answered-empty=\""), std::vector<std::string>{"2"});
  EXPECT_NE(section.find("--ranked-empty auto"), std::string::npos);
  EXPECT_NE(section.find("supports' held-out scores; 2 of 5 queries answered empty"), std::string::npos);
  EXPECT_NE(section.find("keeps the mask it declined in <code>declined/</code>"), std::string::npos);
  EXPECT_NE(section.find("mixture was refused: its threshold 0.320 lay above 2 of the 2"), std::string::npos);
  EXPECT_EQ(values_after(section, "stroke-width=\"2\"").size(), 3u);  // one tick per support
  // Every query in the histogram, all of them orange (the phantoms all hold an object).
  int shown = 0;
  for (const auto& t : values_after(section, "fill=\"#e07b00\"><title>")) shown += std::stoi(t);
  EXPECT_EQ(shown, 5);
  EXPECT_EQ(section.find("fill=\"#888888\""), std::string::npos);
  // The gallery says which queries were answered "no object" (their overlays outline the declined mask).
  EXPECT_NE(html.find("magenta outline: the mask a \"no object\" answer declined"), std::string::npos);
  for (int i = 0; i < 5; ++i) {
    const std::string name = "phantom_00" + std::to_string(i + 1);
    const size_t fig = html.find("<figure data-name=\"" + name + "\">");
    ASSERT_NE(fig, std::string::npos) << name;
    const std::string caption = html.substr(fig, html.find("</figure>", fig) - fig);
    EXPECT_EQ(caption.find("answered &ldquo;no object&rdquo;") != std::string::npos, score[i] < 0.2) << name;
  }
  // Refused for its share of images without the object.
  ranker["empty_from_queries"]["rejected_mixture"] = {{"reason", "share"}, {"threshold", 0.32},
                                                      {"weight_without_object", 0.536},
                                                      {"supports_share_interval", {0.0025, 0.445}}};
  write_json_atomic(dir / "run/ranker.json", ranker);
  write_report(dir / "run");
  EXPECT_NE(test::read_text(dir / "run/report.html")
                .find("put a share of 0.536 of the images in its &ldquo;no object&rdquo; group, outside the 95% "
                      "interval of the supports' share (0.003&ndash;0.445)"),
            std::string::npos);
  // The supports' threshold refused too (a small folder): no threshold, and why.
  ranker["ranker"]["empty_below"] = nullptr;
  ranker["empty_from_queries"] = {{"threshold", nullptr},
                                  {"rejected_supports_threshold", {{"threshold", 0.174}, {"queries_below", 30},
                                                                   {"queries_scored", 37},
                                                                   {"supports_without_object", 1},
                                                                   {"supports", 5}, {"probability", 0.0126}}}};
  write_json_atomic(dir / "run/ranker.json", ranker);
  write_report(dir / "run");
  const std::string refused = test::read_text(dir / "run/report.html");
  EXPECT_NE(refused.find("data-threshold=\"none\""), std::string::npos);
  EXPECT_NE(refused.find("threshold 0.174 would have answered 30 of 37 queries empty, more than the supports' own "
                         "share (1 of 5 without the object) makes plausible (Fisher's exact test: 0.0126)"),
            std::string::npos);
}

// A ranked run says which ridge penalty its ranker used, by which rule, and the curve it was chosen on.
TEST(Report, RankedRunsShowTheRankersPenalty) {
  test::TempDir dir;
  write_ranked_run(dir.path());
  write_json_atomic(dir / "run/segment.json", {{"queries", json::array()}});
  auto section = [&](const json& penalty) {
    write_json_atomic(dir / "run/ranker.json", {{"penalty", penalty}});
    write_report(dir / "run");
    const std::string html = test::read_text(dir / "run/report.html");
    const size_t at = html.find("<h2 id=\"ranker\">");
    return at == std::string::npos ? std::string() : html.substr(at, html.find("</p>", at) - at);
  };
  const std::string one = section({{"chosen", 0.3},
                                   {"candidates", {0.01, 0.1, 0.3, 1.0, 3.0, 10.0}},
                                   {"leave_one_out_mean_dice", json::array()},
                                   {"leave_one_out_squared_error", {0.0101, 0.0121, 0.0175, 0.0259, 0.0333, 0.039}},
                                   {"rule", "one support: candidates left out, one standard error"}});
  ASSERT_FALSE(one.empty());
  EXPECT_EQ(values_after(one, "data-penalty=\""), std::vector<std::string>{"0.3"});
  EXPECT_NE(one.find("leaving each of the support's candidates out"), std::string::npos) << one;
  EXPECT_NE(one.find("0.01 &rarr; 0.0101, 0.1 &rarr; 0.0121"), std::string::npos) << one;
  EXPECT_NE(one.find("10 &rarr; 0.0390."), std::string::npos) << one;
  EXPECT_EQ(one.find("held-out Dice per penalty"), std::string::npos) << one;  // no Dice curve with one support
  const std::string fixed = section({{"chosen", 3.0}, {"candidates", {0.01, 0.1, 0.3, 1.0, 3.0, 10.0}},
                                     {"leave_one_out_mean_dice", {0.5}}, {"rule", "fixed"}});
  EXPECT_NE(fixed.find("Ridge penalty 3 per candidate, chosen as given"), std::string::npos) << fixed;
}

TEST(Report, AFolderWithoutRunJsonIsAnError) {
  test::TempDir dir;
  EXPECT_THROW(write_report(dir.path()), InputError);
}
