// `sammpa sam` and `sammpa sam-embed` through the program, with the real MobileSAM checkpoint.
#include <nlohmann/json.hpp>

#include "io/image_io.h"
#include "test_support.h"

using namespace sammpa;
namespace fs = std::filesystem;

namespace {
const std::string kImage = (test::data_root() / "cxr/images/CHNCXR_0001_0.png").string();
std::string ckpt() {
  const char* p = std::getenv("SAMMPA_MOBILE_SAM");
  return p ? p : "";
}
}  // namespace

TEST(SamCli, BoxPromptWritesMasksLogitsOverlayAndJson) {
  ASSERT_FALSE(ckpt().empty()) << "SAMMPA_MOBILE_SAM not set";
  test::TempDir dir;
  auto r = test::run_sammpa("sam --checkpoint " + ckpt() + " --image " + kImage +
                            " --box 60,60,250,450 --point 150,250,1 --multimask --out " + (dir / "o").string());
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(test::read_text(dir / "o/result.json"));
  EXPECT_EQ(j["model_type"], "vit_t");
  ASSERT_EQ(j["masks"].size(), 3u);
  cv::Mat m = read_mask(dir / "o/mask_0.png", cv::Size(512, 512));
  EXPECT_GT(cv::countNonZero(m), 1000);
  EXPECT_TRUE(fs::exists(dir / "o/overlay.png"));

  // Feed the best low-res logits back as a mask prompt: a valid second round.
  int best = j["best"];
  auto r2 = test::run_sammpa("sam --checkpoint " + ckpt() + " --image " + kImage + " --point 150,250,1 --mask-input " +
                             (dir / ("o/lowres_" + std::to_string(best) + ".npy")).string() + " --out " +
                             (dir / "o2").string());
  ASSERT_EQ(r2.status, 0) << r2.err;
}

TEST(SamCli, EmbeddingsAreReusedWithoutTheImage) {
  test::TempDir dir;
  auto e = test::run_sammpa("sam-embed --checkpoint " + ckpt() + " --image " + kImage + " --out " +
                            (dir / "emb").string());
  ASSERT_EQ(e.status, 0) << e.err;
  ASSERT_TRUE(fs::exists(dir / "emb/CHNCXR_0001_0.samemb"));
  auto a = test::run_sammpa("sam --checkpoint " + ckpt() + " --image " + kImage + " --box 60,60,250,450 --out " +
                            (dir / "a").string());
  auto b = test::run_sammpa("sam --checkpoint " + ckpt() + " --embedding " +
                            (dir / "emb/CHNCXR_0001_0.samemb").string() +
                            " --box 60,60,250,450 --out " + (dir / "b").string());
  ASSERT_EQ(a.status, 0) << a.err;
  ASSERT_EQ(b.status, 0) << b.err;
  cv::Mat ma = read_mask(dir / "a/mask_0.png"), mb = read_mask(dir / "b/mask_0.png");
  EXPECT_EQ(cv::norm(ma, mb, cv::NORM_INF), 0);
}

TEST(SamCli, BadInputsFailWithOneLineAndNoOutput) {
  test::TempDir dir;
  std::ofstream(dir / "garbage.pt") << "not a checkpoint";
  {  // a truncated real checkpoint
    std::ifstream in(ckpt(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(dir / "cut.pt", std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  }
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"--checkpoint " + ckpt() + " --image " + kImage + " --point 1,2", "expected 3"},
      {"--checkpoint " + ckpt() + " --image " + kImage + " --point 1,2,1,4", "expected 3"},
      {"--checkpoint " + ckpt() + " --image " + kImage + " --point a,2,1", "'a' is not a number"},
      {"--checkpoint " + ckpt() + " --image " + kImage + " --point 1,2,7", "label must be 1"},
      {"--checkpoint " + ckpt() + " --image " + kImage + " --box 1,2,3,4,5", "expected 4"},
      {"--checkpoint " + ckpt() + " --image " + kImage + " --box 10,10,5,50", "X0 < X1"},
      {"--checkpoint " + ckpt() + " --image " + kImage, "no prompt given"},
      {"--checkpoint " + ckpt() + " --image " + (dir / "missing.png").string() + " --box 1,1,9,9", "file not found"},
      {"--checkpoint " + (dir / "garbage.pt").string() + " --image " + kImage + " --box 1,1,9,9", "garbage.pt"},
      {"--checkpoint " + (dir / "cut.pt").string() + " --image " + kImage + " --box 1,1,9,9", "cut.pt"},
      {"--checkpoint " + ckpt() + " --image " + kImage + " --box 1,1,9,9 --mask-input " +
           (test::data_root() / "busi/masks/benign_001.png").string(), "but the image is 512x512"},
  };
  for (const auto& c : cases) {
    auto r = test::run_sammpa("sam " + c.args + " --out " + (dir / "out").string());
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(test::count_files(dir / "out"), 0u) << c.args;
  }
  // Nothing half-written next to the output either (no staging folders left).
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename().string().find(".partial"), std::string::npos) << e.path();
}
