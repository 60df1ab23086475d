// Broken, hostile and mismatching checkpoints: each a CheckpointError whose message names the file and the
// problem, never a crash.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "fixtures.h"
#include "sam/checkpoint/checkpoint.h"
#include "test_support.h"

namespace fs = std::filesystem;
using sammpa::sam::Checkpoint;
using sammpa::sam::CheckpointError;
using sammpa::test::open_error;
using sammpa::test::fixture;

namespace {

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const fs::path& file, std::string_view bytes) {
  std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Opens and reads every tensor; a CheckpointError anywhere is fine, anything else fails the test.
bool opens_and_reads(const fs::path& file) {
  try {
    const auto ckpt = Checkpoint::open(file);
    for (const auto& k : ckpt.keys()) ckpt.get(k);
    return true;
  } catch (const CheckpointError&) {
    return false;
  }
}

}  // namespace

struct BadFile {
  const char* name;
  const char* message;
};

void PrintTo(const BadFile& f, std::ostream* os) { *os << f.name; }

class BadFiles : public ::testing::TestWithParam<BadFile> {};

TEST_P(BadFiles, FailWithAClearMessage) {
  const fs::path file = fixture(std::string("bad/") + GetParam().name);
  const std::string msg = open_error(file);
  EXPECT_EQ(msg.rfind(file.string() + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find(GetParam().message), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Checkpoint, BadFiles,
    ::testing::Values(
        BadFile{"legacy.pt", "legacy (non-zip) PyTorch format; re-save with torch.save(..., "
                             "_use_new_zipfile_serialization=True)"},
        BadFile{"not_zip.pt", "not a zip archive"}, BadFile{"empty.pt", "not a zip archive"},
        BadFile{"forbidden_global.pt", "global 'os.system', which is not allowed"},
        BadFile{"bad_opcode.pt", "unsupported pickle opcode 0x69"},
        BadFile{"no_data_pkl.pt", "no data.pkl in the zip archive"},
        BadFile{"compressed.pt", "is compressed (method 8)"},
        BadFile{"tensor_out_of_storage.pt", "tensor 'w': elements up to 17 lie outside its storage of 16"},
        BadFile{"storage_too_small.pt", "tensor 'w': storage of 64 elements needs 256 bytes but its zip entry has 64"},
        BadFile{"expanded_too_far.pt", "tensor 'w': expands 16 stored elements to 1073741824"},
        BadFile{"missing_storage.pt", "tensor 'w': storage entry archive/data/7 missing"},
        BadFile{"list_top.pt", "data.pkl holds a list, not a state_dict"}),
    [](const auto& info) {
      std::string n = info.param.name;
      return n.substr(0, n.find('.'));
    });

TEST(Checkpoint, MissingFileAndFolder) {
  EXPECT_EQ(open_error(fixture("nope.pt")), fixture("nope.pt").string() + ": no such file");
  EXPECT_EQ(open_error(fixture("bad")), fixture("bad").string() + ": not a file");
}

TEST(Checkpoint, MissingKeyIsNamed) {
  const auto ckpt = Checkpoint::open(fixture("tensors.pt"));
  try {
    ckpt.get("image_encoder.pos_embed");
    FAIL() << "no error";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(std::string(e.what()),
              fixture("tensors.pt").string() + ": no tensor 'image_encoder.pos_embed' in the checkpoint");
  }
  EXPECT_THROW(ckpt.shape("nope"), CheckpointError);
}

TEST(Checkpoint, WrongShapeNamesKeyAndBothShapes) {
  const auto ckpt = Checkpoint::open(fixture("tensors.pt"));
  EXPECT_EQ(ckpt.get("f32_4d", {2, 3, 4, 5}).numel(), 120);
  try {
    ckpt.get("f32_4d", {2, 3});
    FAIL() << "no error";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(std::string(e.what()),
              fixture("tensors.pt").string() + ": 'f32_4d' has shape [2, 3, 4, 5] but the model expects [2, 3]");
  }
}

TEST(Checkpoint, TruncatedFilesAreRejected) {
  sammpa::test::TempDir dir;
  const std::string bytes = read_bytes(fixture("tiny_sam_vit.pt"));
  const size_t n = bytes.size();
  std::vector<size_t> cuts = {0, 1, 4, 30, 100, n / 3, n / 2, n - 4096, n - 100, n - 23, n - 22, n - 21, n - 1};
  for (size_t k = 1; k < 40; ++k) cuts.push_back(n * k / 40);
  for (size_t cut : cuts) {
    const fs::path file = dir / ("cut" + std::to_string(cut) + ".pt");
    write_bytes(file, std::string_view(bytes).substr(0, cut));
    const std::string msg = open_error(file);
    EXPECT_NE(msg, "") << "cut at " << cut << " of " << n << " opened";
    if (cut > 4) {
      EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
    }
  }
}

TEST(Checkpoint, TruncatedRealCheckpointIsRejected) {
  const char* env = std::getenv("SAMMPA_MOBILE_SAM");
  ASSERT_TRUE(env && fs::exists(env)) << "SAMMPA_MOBILE_SAM (the real MobileSAM checkpoint) not set or missing";
  sammpa::test::TempDir dir;
  const std::string bytes = read_bytes(env);
  for (double f : {0.001, 0.25, 0.5, 0.9, 0.9999}) {
    const size_t cut = static_cast<size_t>(static_cast<double>(bytes.size()) * f);
    const fs::path file = dir / "cut.pt";
    write_bytes(file, std::string_view(bytes).substr(0, cut));
    const std::string msg = open_error(file);
    EXPECT_NE(msg.find("truncated zip archive"), std::string::npos) << cut << ": " << msg;
  }
}

// Random byte corruption anywhere in the file: either a CheckpointError or a successful read, never a crash or
// out-of-bounds access (run under AddressSanitizer to make the latter visible).
TEST(Checkpoint, CorruptBytesNeverCrash) {
  sammpa::test::TempDir dir;
  const std::string original = read_bytes(fixture("tensors.pt"));
  std::mt19937 rng(1);
  int opened = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes = original;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    const fs::path file = dir / "corrupt.pt";
    write_bytes(file, bytes);
    opened += opens_and_reads(file);
  }
  // Most flips land in tensor bytes, which cannot be detected; pickle and directory damage is.
  EXPECT_GT(opened, 0);
  EXPECT_LT(opened, 300);
}
