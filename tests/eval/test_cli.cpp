// Runs the sammpa program (select, then eval) on a small phantom dataset, as a user would.
#include <nlohmann/json.hpp>

#include "io/image_io.h"
#include "io/phantom.h"
#include "select/support_list.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace sammpa;

using test::count_files;
using test::read_text;
using test::run_sammpa;

TEST(Cli, SelectThenEvalOnAPhantomDataset) {
  test::TempDir dir;
  write_phantom_dataset(dir / "data", {12, 64, 5});
  const std::string data = (dir / "data").string();

  test::CliRun sel = run_sammpa("select --data " + data + " -k 3 --seed 1 --out " + (dir / "sel").string());
  ASSERT_EQ(sel.status, 0) << sel.err;
  auto support = read_support_list((dir / "sel/support.json").string());
  ASSERT_EQ(support.size(), 3u);
  EXPECT_EQ(read_support_list((dir / "sel/support.txt").string()), support);
  EXPECT_EQ(read_support_list((dir / "sel").string()), support);  // the folder itself is a support list
  EXPECT_EQ(sel.out, support[0] + "\n" + support[1] + "\n" + support[2] + "\n");
  auto j = nlohmann::json::parse(read_text(dir / "sel/support.json"));
  EXPECT_EQ(j["strategy"], "kcentroid");
  EXPECT_EQ(j["seed"], 1);
  EXPECT_EQ(j["cluster_sizes"][0].get<int>() + j["cluster_sizes"][1].get<int>() + j["cluster_sizes"][2].get<int>(), 12);
  // Same command, same answer.
  EXPECT_EQ(run_sammpa("select --data " + data + " -k 3 --seed 1").out, sel.out);

  // Predictions: the ground truth itself, so every query scores Dice 1; supports are not scored.
  for (const auto& e : fs::directory_iterator(dir / "data/masks"))
    write_png(dir / "pred" / e.path().filename(), read_mask(e.path()));
  test::CliRun ev = run_sammpa("eval --data " + data + " --pred " + (dir / "pred").string() + " --support " +
                               (dir / "sel").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(ev.status, 0) << ev.err;
  EXPECT_NE(ev.out.find("overall"), std::string::npos) << ev.out;
  std::string csv = read_text(dir / "out/eval.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 10);  // header + 9 queries
  for (const auto& s : support) EXPECT_EQ(csv.find(s + ","), std::string::npos) << s;
  auto scores = nlohmann::json::parse(read_text(dir / "out/eval.json"));
  EXPECT_EQ(scores["overall"]["dice"]["n"], 9);
  EXPECT_DOUBLE_EQ(scores["overall"]["dice"]["mean"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(scores["overall"]["hd95"]["mean"].get<double>(), 0.0);
  EXPECT_EQ(scores["support"].get<std::vector<std::string>>(), support);
  EXPECT_EQ(count_files(dir / "out"), 3u);  // eval.json, eval.csv and sammpa's marker: no temporary files
  EXPECT_EQ(count_files(dir / "sel"), 3u);
  EXPECT_EQ(count_files(dir.path()), 3u + 3u + 2u * 12u + 12u);  // and nothing beside the folders

  // The form select and eval took before (a file name) is refused with the new one, and writes nothing.
  test::CliRun old = run_sammpa("select --data " + data + " -k 3 --out " + (dir / "sel.json").string());
  EXPECT_EQ(old.status, 2);
  EXPECT_NE(old.err.find("--out: names a folder now, not a file"), std::string::npos) << old.err;
  EXPECT_NE(old.err.find("give e.g. '" + (dir / "sel").string() + "'"), std::string::npos) << old.err;
  EXPECT_FALSE(fs::exists(dir / "sel.json"));
}

TEST(Cli, BadInputExitsNonZeroWithAMessageAndWritesNothing) {
  test::TempDir dir;
  write_phantom_dataset(dir / "data", {5, 48, 2});
  const std::string data = (dir / "data").string(), sel = (dir / "out/sel").string();

  test::CliRun too_many = run_sammpa("select --data " + data + " -k 6 --out " + sel);
  EXPECT_EQ(too_many.status, 2);
  EXPECT_NE(too_many.err.find("sammpa: error: " + data + ": cannot select K=6 examples: the folder has only 5 images"),
            std::string::npos)
      << too_many.err;
  EXPECT_TRUE(too_many.out.empty());

  test::CliRun missing = run_sammpa("select --data " + (dir / "nowhere").string() + " -k 2 --out " + sel);
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find((dir / "nowhere").string() + ": dataset folder not found"), std::string::npos)
      << missing.err;

  test::CliRun zero = run_sammpa("select --data " + data + " -k 0 --out " + sel);
  EXPECT_EQ(zero.status, 2);
  EXPECT_NE(zero.err.find("--k: must be at least 1"), std::string::npos) << zero.err;
  EXPECT_FALSE(fs::exists(dir / "out"));

  // eval: a prediction of the wrong size names the file; no partial output.
  for (const auto& e : fs::directory_iterator(dir / "data/masks"))
    write_png(dir / "pred" / e.path().filename(), read_mask(e.path()));
  write_png(dir / "pred/phantom_003.png", cv::Mat::zeros(20, 48, CV_8UC1));
  test::CliRun ev = run_sammpa("eval --data " + data + " --pred " + (dir / "pred").string() + " --out " +
                               (dir / "out/scores").string());
  EXPECT_EQ(ev.status, 2);
  EXPECT_NE(ev.err.find("phantom_003.png: prediction is 48x20 but the ground-truth mask is 48x48"), std::string::npos)
      << ev.err;
  EXPECT_FALSE(fs::exists(dir / "out"));  // neither the folder nor its staging copy
}
