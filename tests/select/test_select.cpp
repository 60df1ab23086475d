#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "common/error.h"
#include "common/progress.h"
#include "select/select.h"
#include "select/support_list.h"
#include "test_support.h"

using namespace sammpa;

namespace {

const bool kQuiet = (Progress::set_globally_enabled(false), true);

// The first n chest X-rays of the real data.
Dataset cxr_subset(size_t n) {
  Dataset ds = scan_dataset(test::data_root() / "cxr");
  ds.samples.resize(n);
  return ds;
}


}  // namespace

TEST(Select, KCentroidOnRealImagesIsDeterministicAndPicksClusterRepresentatives) {
  const Dataset ds = cxr_subset(60);
  SelectOptions opt;
  opt.k = 5;
  opt.threads = 1;
  Selection a = select_examples(ds, opt);
  opt.threads = 2;
  Selection b = select_examples(ds, opt);
  EXPECT_EQ(a.support, b.support);
  EXPECT_EQ(a.cluster_of, b.cluster_of);

  ASSERT_EQ(a.support.size(), 5u);
  EXPECT_EQ(std::set<std::string>(a.support.begin(), a.support.end()).size(), 5u);
  ASSERT_EQ(a.cluster_of.size(), 60u);
  size_t total = 0;
  for (size_t c = 0; c < 5; ++c) {
    total += a.cluster_sizes[c];
    if (c > 0) {
      EXPECT_GE(a.cluster_sizes[c - 1], a.cluster_sizes[c]);  // largest cluster first
    }
    EXPECT_EQ(a.cluster_of[*ds.index_of(a.support[c])], static_cast<int>(c)) << a.support[c];
  }
  EXPECT_EQ(total, 60u);

  // Each representative is its cluster's member closest to the cluster mean, and every image is closer to
  // its own cluster mean than to any other (a Lloyd fixed point).
  cv::Mat f = dataset_features(ds, opt.features, 2);
  f.convertTo(f, CV_64F);
  cv::Mat means = cv::Mat::zeros(5, f.cols, CV_64F);
  for (int i = 0; i < f.rows; ++i) means.row(a.cluster_of[i]) += f.row(i) / double(a.cluster_sizes[a.cluster_of[i]]);
  double inertia = 0;
  for (int i = 0; i < f.rows; ++i) {
    const int c = a.cluster_of[i];
    const double own = cv::norm(f.row(i), means.row(c));
    inertia += own * own;
    for (int o = 0; o < 5; ++o) EXPECT_LE(own, cv::norm(f.row(i), means.row(o)) + 1e-9);
    const int rep = static_cast<int>(*ds.index_of(a.support[c]));
    EXPECT_LE(cv::norm(f.row(rep), means.row(c)), own + 1e-9) << ds.samples[i].name;
  }
  EXPECT_NEAR(a.inertia, inertia, 1e-9 * inertia);  // the clustering's objective, reported in support.json
}

// Should a support prove unusable (no object to outline), a person takes its alternates in turn: for
// k-centroid the other members of its cluster, nearest the centroid first; for random the next draws, which do
// not change the support itself.
TEST(Select, AlternatesAreTheClustersNextMembersOrTheNextDraws) {
  const Dataset ds = cxr_subset(60);
  SelectOptions opt;
  opt.k = 3;
  const Selection a = select_examples(ds, opt);
  ASSERT_EQ(a.alternates.size(), 3u);
  cv::Mat f = dataset_features(ds, opt.features, 2);
  f.convertTo(f, CV_64F);
  cv::Mat means = cv::Mat::zeros(3, f.cols, CV_64F);
  for (int i = 0; i < f.rows; ++i) means.row(a.cluster_of[i]) += f.row(i) / double(a.cluster_sizes[a.cluster_of[i]]);
  for (int c = 0; c < 3; ++c) {
    const auto& alt = a.alternates[c];
    EXPECT_EQ(alt.size(), std::min(kAlternates, a.cluster_sizes[c] - 1)) << c;
    double previous = cv::norm(f.row(static_cast<int>(*ds.index_of(a.support[c]))), means.row(c));
    for (const auto& n : alt) {
      const int i = static_cast<int>(*ds.index_of(n));
      EXPECT_EQ(a.cluster_of[i], c) << n;
      const double d = cv::norm(f.row(i), means.row(c));
      EXPECT_GE(d, previous - 1e-9) << n;  // nearest the centroid first, the support nearest of all
      previous = d;
    }
    // No member of the cluster left out of the list is nearer than its last entry.
    for (int i = 0; i < f.rows; ++i)
      if (a.cluster_of[i] == c && ds.samples[i].name != a.support[c] &&
          std::find(alt.begin(), alt.end(), ds.samples[i].name) == alt.end()) {
        EXPECT_GE(cv::norm(f.row(i), means.row(c)), previous - 1e-9) << ds.samples[i].name;
      }
  }
  EXPECT_EQ(selection_json(ds, opt, a)["alternates"].get<std::vector<std::vector<std::string>>>(), a.alternates);

  opt.strategy = SelectStrategy::Random;
  opt.seed = 3;
  const Selection r = select_examples(ds, opt);
  ASSERT_EQ(r.alternates.size(), 3u);
  std::set<std::string> seen(r.support.begin(), r.support.end());
  for (const auto& alt : r.alternates) {
    EXPECT_EQ(alt.size(), kAlternates);
    for (const auto& n : alt) EXPECT_TRUE(seen.insert(n).second) << n << " drawn twice";
  }
  // The supports are the shuffle's first K draws, the alternates those after: K = 1's draw is among K = 3's.
  opt.k = 1;
  const Selection one = select_examples(ds, opt);
  EXPECT_EQ(r.support.size(), 3u);
  EXPECT_TRUE(std::find(r.support.begin(), r.support.end(), one.support[0]) != r.support.end());
}

TEST(Select, KOfOneAndKOfNWork) {
  const Dataset ds = cxr_subset(12);
  SelectOptions opt;
  opt.k = 1;
  Selection one = select_examples(ds, opt);
  ASSERT_EQ(one.support.size(), 1u);
  EXPECT_EQ(one.cluster_sizes, std::vector<size_t>{12});
  opt.k = 12;
  auto all = select_support(ds, opt);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 12u);
}

TEST(Select, RandomIsReproducibleForASeed) {
  const Dataset ds = cxr_subset(60);
  SelectOptions opt;
  opt.strategy = SelectStrategy::Random;
  opt.k = 5;
  opt.seed = 7;
  auto a = select_support(ds, opt), b = select_support(ds, opt);
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::set<std::string>(a.begin(), a.end()).size(), 5u);
  for (const auto& n : a) EXPECT_TRUE(ds.index_of(n).has_value());
  std::set<std::vector<std::string>> seen;
  for (uint64_t s = 0; s < 5; ++s) {
    opt.seed = s;
    seen.insert(select_support(ds, opt));
  }
  EXPECT_GT(seen.size(), 1u);
}

TEST(Select, RandomIsRoughlyUniform) {
  Dataset ds;
  for (int i = 0; i < 10; ++i) ds.samples.push_back({"img_" + std::to_string(i), {}, std::nullopt, {}});
  SelectOptions opt;
  opt.strategy = SelectStrategy::Random;
  opt.k = 3;
  std::map<std::string, int> count;
  for (uint64_t s = 0; s < 2000; ++s) {
    opt.seed = s;
    for (const auto& n : select_support(ds, opt)) ++count[n];
  }
  ASSERT_EQ(count.size(), 10u);
  for (const auto& [n, c] : count) EXPECT_NEAR(c, 600, 90) << n;  // expected 2000*3/10
}

TEST(Select, BadKIsAnErrorNamingTheProblem) {
  const Dataset ds = cxr_subset(8);
  SelectOptions opt;
  opt.k = 9;
  std::string msg = test::error_of([&] { select_examples(ds, opt); });
  EXPECT_NE(msg.find("K=9"), std::string::npos) << msg;
  EXPECT_NE(msg.find("only 8 images"), std::string::npos) << msg;
  opt.strategy = SelectStrategy::Random;
  EXPECT_NE(test::error_of([&] { select_examples(ds, opt); }), "");
  opt.k = 0;
  msg = test::error_of([&] { select_examples(ds, opt); });
  EXPECT_NE(msg.find("--k"), std::string::npos) << msg;
  EXPECT_NE(test::error_of([] { parse_select_strategy("best"); }).find("--strategy"), std::string::npos);
}

TEST(Select, UnreadableImageIsAnErrorNamingTheFile) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "images");
  for (const char* n : {"a.png", "b.png"}) {
    std::ofstream(dir / "images" / n) << "not a png";
  }
  Dataset ds = scan_dataset(dir.path());
  SelectOptions opt;
  opt.k = 1;
  EXPECT_NE(test::error_of([&] { select_examples(ds, opt); }).find("images/a.png"), std::string::npos);
}

TEST(Select, WritesJsonAndTxtThatTheSupportReaderReads) {
  const Dataset ds = cxr_subset(20);
  SelectOptions opt;
  opt.k = 3;
  Selection s = select_examples(ds, opt);
  test::TempDir dir;
  auto j = selection_json(ds, opt, s);
  write_selection(dir / "sel.json", j);
  EXPECT_EQ(read_support_list((dir / "sel.json").string()), s.support);
  EXPECT_EQ(read_support_list((dir / "sel.txt").string()), s.support);
  EXPECT_EQ(j["strategy"], "kcentroid");
  EXPECT_EQ(j["k"], 3);
  EXPECT_EQ(j["features"], "thumbnail-hist");
  EXPECT_EQ(j["cluster_sizes"].get<std::vector<size_t>>(), s.cluster_sizes);
  EXPECT_EQ(j["inertia"].get<double>(), s.inertia);
  opt.strategy = SelectStrategy::Random;
  EXPECT_TRUE(selection_json(ds, opt, select_examples(ds, opt))["inertia"].is_null());
  EXPECT_THROW(write_selection(dir / "sel.txt", j), InputError);
  // Nothing but the two outputs is left in the folder (no temporary files).
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 2u);
  // The folder that holds them is a support list too; a folder without support.json is an error naming it.
  write_selection(dir / "out/support.json", j);
  EXPECT_EQ(read_support_list((dir / "out").string()), s.support);
  std::filesystem::create_directories(dir / "empty");
  EXPECT_NE(test::error_of([&] { read_support_list((dir / "empty").string()); })
                .find((dir / "empty").string() + ": folder holds no support.json"),
            std::string::npos);
}

TEST(Select, KCentroidCoversTheFolderBetterThanRandom) {
  // Coverage: mean feature distance from each image to its nearest support image (lower is better). This
  // is what clustering optimises; on real images it beats every one of ten random draws.
  const Dataset ds = cxr_subset(80);
  cv::Mat f = dataset_features(ds, FeatureKind::ThumbnailHist, 2);
  auto coverage = [&](const std::vector<std::string>& support) {
    double total = 0;
    for (int i = 0; i < f.rows; ++i) {
      double best = 1e300;
      for (const auto& n : support) best = std::min(best, cv::norm(f.row(i), f.row(static_cast<int>(*ds.index_of(n)))));
      total += best;
    }
    return total / f.rows;
  };
  SelectOptions opt;
  opt.k = 5;
  const double kc = coverage(select_support(ds, opt));
  opt.strategy = SelectStrategy::Random;
  for (uint64_t s = 0; s < 10; ++s) {
    opt.seed = s;
    EXPECT_LT(kc, coverage(select_support(ds, opt))) << "seed " << s;
  }
}
