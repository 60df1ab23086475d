// Output folders never cost a user a file: only empty folders and earlier sammpa outputs (with --overwrite)
// are replaced; the current folder, the data folder and their parents are refused whatever the flags.
#include "common/output_dir.h"

#include <unistd.h>

#include "io/phantom.h"
#include "test_support.h"

using namespace sammpa;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// Commits a sammpa output holding one file `name`.
void make_output(const fs::path& target, const std::string& name, const OutputPolicy& policy = {}) {
  OutputDir out(target, policy);
  write_file(out.path(name), name);
  out.commit();
}

}  // namespace

TEST(OutputDir, NewAndEmptyFoldersAreWrittenWithTheMarker) {
  test::TempDir dir;
  make_output(dir / "new/sub", "a.txt");
  EXPECT_EQ(test::read_text(dir / "new/sub/a.txt"), "a.txt");
  EXPECT_TRUE(fs::exists(dir / "new/sub" / kOutputMarker));
  fs::create_directories(dir / "empty");
  make_output(dir / "empty", "b.txt");
  EXPECT_TRUE(fs::exists(dir / "empty/b.txt"));
}

TEST(OutputDir, ForeignFolderIsRefusedAndKeptEvenWithOverwrite) {
  test::TempDir dir;
  write_file(dir / "mine/notes.txt", "precious");
  for (bool overwrite : {false, true}) {
    std::string e = test::error_of([&] { make_output(dir / "mine", "a.txt", {overwrite, {}}); });
    EXPECT_NE(e.find("not a sammpa output folder"), std::string::npos) << e;
    EXPECT_EQ(test::read_text(dir / "mine/notes.txt"), "precious");
    EXPECT_FALSE(fs::exists(dir / "mine/a.txt"));
  }
  EXPECT_EQ(test::count_files(dir.path()), 1u);  // no staging folder left behind
}

TEST(OutputDir, EarlierOutputNeedsOverwrite) {
  test::TempDir dir;
  make_output(dir / "out", "first.txt");
  std::string e = test::error_of([&] { make_output(dir / "out", "second.txt"); });
  EXPECT_NE(e.find("--overwrite"), std::string::npos) << e;
  EXPECT_TRUE(fs::exists(dir / "out/first.txt"));
  make_output(dir / "out", "second.txt", {true, {}});
  EXPECT_FALSE(fs::exists(dir / "out/first.txt"));
  EXPECT_TRUE(fs::exists(dir / "out/second.txt"));
  EXPECT_EQ(test::count_files(dir.path()), 2u);  // second.txt + marker: the old output is gone, nothing else
}

TEST(OutputDir, InputsAndTheirParentsAreRefusedEvenWhenMarked) {
  test::TempDir dir;
  write_file(dir / "data/images/a.png", "x");
  write_file(dir / "data" / kOutputMarker, "");  // even a marker does not make an input replaceable
  for (const fs::path& target : {dir / "data", dir.path(), dir / "data/images", dir / "data/../data/"}) {
    std::string e = test::error_of([&] { make_output(target, "a.txt", {true, {dir / "data/images"}}); });
    EXPECT_NE(e.find("holds the input"), std::string::npos) << target << ": " << e;
  }
  EXPECT_EQ(test::read_text(dir / "data/images/a.png"), "x");
  make_output(dir / "data/out", "a.txt", {true, {dir / "data/images"}});  // inside the data folder is fine
  EXPECT_TRUE(fs::exists(dir / "data/out/a.txt"));
}

TEST(OutputDir, CurrentFolderAndRootAreRefused) {
  test::TempDir dir;
  write_file(dir / "cwd/keep.txt", "k");
  const fs::path before = fs::current_path();
  fs::current_path(dir / "cwd");
  std::string here = test::error_of([] { make_output(".", "a.txt", {true, {}}); });
  std::string parent = test::error_of([] { make_output("..", "a.txt", {true, {}}); });
  fs::current_path(before);
  EXPECT_NE(here.find("current folder"), std::string::npos) << here;
  EXPECT_NE(parent.find("current folder"), std::string::npos) << parent;
  EXPECT_TRUE(fs::exists(dir / "cwd/keep.txt"));
  EXPECT_NE(test::error_of([] { check_output_folder("/", {true, {}}); }).find("root"), std::string::npos);
}

TEST(OutputDir, FileTargetsAndUncommittedRuns) {
  test::TempDir dir;
  write_file(dir / "f", "file");
  EXPECT_NE(test::error_of([&] { make_output(dir / "f", "a.txt", {true, {}}); }).find("not a folder"),
            std::string::npos);
  {
    OutputDir out(dir / "never");
    write_file(out.path("x.txt"), "x");
  }  // destroyed without commit: nothing left
  EXPECT_FALSE(fs::exists(dir / "never"));
  {
    OutputDir out(dir / "new/deeper/never");  // the parents made for it go too
    write_file(out.path("x.txt"), "x");
    write_file(dir / "new/mine.txt", "a file of the user's keeps its folder");
  }
  EXPECT_FALSE(fs::exists(dir / "new/deeper"));
  EXPECT_TRUE(fs::exists(dir / "new/mine.txt"));
  fs::remove_all(dir / "new");
  EXPECT_EQ(test::count_files(dir.path()), 1u);
}

// The same rule through the program, for every subcommand that writes: the user's files survive.
TEST(OutputDirCli, EverySubcommandKeepsTheUsersFiles) {
  test::TempDir dir;
  write_phantom_dataset(dir / "data", {6, 64, 1});
  write_file(dir / "user/thesis.txt", "precious");
  const std::string data = (dir / "data").string(), user = (dir / "user").string();
  const std::vector<std::string> commands = {
      "run --data " + data + " -k 2 --out " + user,
      "run --data " + data + " -k 2 --out " + data,
      "run --data " + data + " -k 2 --out " + dir.path().string() + " --overwrite",
      "propagate --data " + data + " --support phantom_000 --out " + user,
      "propagate --data " + data + " --support phantom_000 --out " + data + " --overwrite",
      "phantom --out " + user + " --overwrite",
      "sam-embed --data " + data + " --out " + data + "/images --overwrite",
      "sam --image " + data + "/images/phantom_000.png --box 1,1,30,30 --out " + user,
  };
  for (const auto& c : commands) {
    auto r = test::run_sammpa(c);
    EXPECT_EQ(r.status, 2) << c << "\n" << r.err;
    EXPECT_NE(r.err.find("refusing"), std::string::npos) << c << "\n" << r.err;
  }
  auto r = test::run_sammpa("run --data " + data + " -k 2 --out .", dir / "user");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("current folder"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_text(dir / "user/thesis.txt"), "precious");
  EXPECT_EQ(test::count_files(dir / "user"), 1u);
  EXPECT_EQ(test::count_files(dir / "data"), 12u);
}

TEST(OutputDirCli, RerunNeedsOverwriteAndFilesNeedIt) {
  test::TempDir dir;
  write_phantom_dataset(dir / "data", {6, 64, 1});
  const std::string data = (dir / "data").string(), out = (dir / "out").string();
  ASSERT_EQ(test::run_sammpa("propagate --data " + data + " --support phantom_000 --out " + out).status, 0);
  auto again = test::run_sammpa("propagate --data " + data + " --support phantom_000 --out " + out);
  EXPECT_EQ(again.status, 2);
  EXPECT_NE(again.err.find("--overwrite"), std::string::npos) << again.err;
  EXPECT_EQ(test::run_sammpa("propagate --data " + data + " --support phantom_000 --out " + out +
                             " --overwrite").status, 0);
  EXPECT_TRUE(fs::exists(dir / "out/propagation.json"));

  // select and eval write folders under the same rule: a user's folder is never replaced, sammpa's only when
  // asked.
  write_file(dir / "sel/support.txt", "mine");
  auto sel = test::run_sammpa("select --data " + data + " -k 2 --out " + (dir / "sel").string() + " --overwrite");
  EXPECT_EQ(sel.status, 2) << sel.err;
  EXPECT_NE(sel.err.find("refusing"), std::string::npos) << sel.err;
  EXPECT_EQ(test::read_text(dir / "sel/support.txt"), "mine");
  const std::string eval = "eval --data " + data + " --pred " + out + "/coarse --missing-as-empty --out " +
                           (dir / "scores").string();
  ASSERT_EQ(test::run_sammpa(eval).status, 0);
  auto ev = test::run_sammpa(eval);
  EXPECT_EQ(ev.status, 2) << ev.err;
  EXPECT_NE(ev.err.find("--overwrite"), std::string::npos) << ev.err;
  EXPECT_EQ(test::run_sammpa(eval + " --overwrite").status, 0);
  EXPECT_TRUE(fs::exists(dir / "scores/eval.csv"));
  // The output may not hold an input: eval's predictions inside its --out.
  auto inside = test::run_sammpa("eval --data " + data + " --pred " + out + "/coarse --missing-as-empty --out " + out +
                                 " --overwrite");
  EXPECT_EQ(inside.status, 2) << inside.err;
  EXPECT_TRUE(fs::exists(dir / "out/propagation.json"));
}
