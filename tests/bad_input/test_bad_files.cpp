// Malformed and hostile input files read through the library: .npy with lying headers, .samemb embeddings,
// image headers that claim huge images, support lists with wrong JSON types; plus the guards they rely on
// (Tensor byte counts, exceptions inside OpenMP regions). Every case is an InputError naming the file, fast,
// without a large allocation.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <cstring>
#include <fstream>

#include "common/npy.h"
#include "common/omp_errors.h"
#include "io/image_io.h"
#include "sam/image_embedding.h"
#include "sam/nn/tensor.h"
#include "select/support_list.h"
#include "test_support.h"

namespace fs = std::filesystem;
using sammpa::test::error_of;
using sammpa::test::TempDir;

namespace {

void write_bytes(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A version-1 .npy: magic, header length, header padded to 64 bytes, then `data`.
std::string npy(const std::string& dict, const std::string& data) {
  std::string header = dict;
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::string out = "\x93NUMPY\x01";
  out.push_back('\0');
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  return out + header + data;
}

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

// The reported case: 145 bytes claiming 1x1x20000x20000 float32 (1.6 GB) took 3.3 GB and 10 s before failing.
TEST(BadInputNpy, LyingHeaderFailsBeforeAllocating) {
  TempDir dir;
  const fs::path file = dir / "liar.npy";
  write_bytes(file, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 20000, 20000), }", "0123456789"));
  const long rss0 = peak_rss_kb();
  const auto t0 = std::chrono::steady_clock::now();
  const std::string msg = error_of([&] { sammpa::read_npy(file); });
  EXPECT_LT(seconds_since(t0), 0.5);
  EXPECT_LT(peak_rss_kb() - rss0, 100 * 1024) << "peak memory grew by " << (peak_rss_kb() - rss0) << " kB";
  EXPECT_EQ(msg, file.string() + ": truncated .npy data (the header says 1600000000 bytes, the file has 10)");
}

TEST(BadInputNpy, OverflowingAndMalformedShapes) {
  TempDir dir;
  struct Case {
    std::string header, expect;
  } cases[] = {
      // 2^32 * 2^32 elements: the element count wraps around to 0 in 64 bits without the check.
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", "shape is too large"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::string(400, '9') + ",), }",
       "a dimension is too large"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 2), }", "corrupt .npy header (shape)"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': 12, }", "corrupt .npy header (shape)"},
      {"{'descr': '<f4', 'fortran_order': False, }", "lacks 'shape'"},
      {"{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", "unsupported .npy dtype '<c8'"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", "Fortran-ordered"},
  };
  for (const auto& c : cases) {
    const fs::path file = dir / "bad.npy";
    write_bytes(file, npy(c.header, std::string(16, '\0')));
    const std::string msg = error_of([&] { sammpa::read_npy(file); });
    EXPECT_EQ(msg.rfind(file.string() + ": ", 0), 0u) << c.header << " -> " << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.header << " -> " << msg;
  }
  // A header length beyond the end of the file.
  write_bytes(dir / "short.npy", std::string("\x93NUMPY\x01\x00\xff\x7f{'descr'", 17));
  EXPECT_NE(error_of([&] { sammpa::read_npy(dir / "short.npy"); }).find("corrupt .npy header"), std::string::npos);
}

TEST(BadInputNpy, ValidFilesStillRead) {
  TempDir dir;
  const float v[6] = {1, 2, 3, 4, 5, -6};
  sammpa::write_npy(dir / "ok.npy", v, {2, 3});
  const auto a = sammpa::read_npy(dir / "ok.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(a.data.size(), 6u);
  EXPECT_EQ(a.data[5], -6.f);
  // A 0-d array and an empty one.
  write_bytes(dir / "scalar.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", std::string(4, '\0')));
  EXPECT_EQ(sammpa::read_npy(dir / "scalar.npy").data.size(), 1u);
  write_bytes(dir / "empty.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", ""));
  EXPECT_EQ(sammpa::read_npy(dir / "empty.npy").data.size(), 0u);
}

namespace {

std::string samemb(const std::string& json, size_t data_bytes) {
  std::string out = "SAMMPAE1";
  const uint32_t n = static_cast<uint32_t>(json.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  return out + json + std::string(data_bytes, '\0');
}

const std::string kFrame =
    R"("model_type": "vit_t", "orig_h": 512, "orig_w": 512, "input_h": 1024, "input_w": 1024, "target": 1024)";

}  // namespace

TEST(BadInputEmbedding, SizesAreCheckedAgainstTheFile) {
  TempDir dir;
  struct Case {
    std::string json;
    size_t data;
    std::string expect;
  } cases[] = {
      {"{" + kFrame + R"(, "shape": [1, 256, 64, 64]})", 100, "truncated embedding file (the header says 4194304"},
      {"{" + kFrame + R"(, "shape": [1, 4294967296, 4294967296, 16]})", 16, "corrupt embedding header (shape"},
      {"{" + kFrame + R"(, "shape": [1, -1, 64, 64]})", 16, "corrupt embedding header (shape"},
      {"{" + kFrame + R"(, "shape": [256, 64, 64]})", 16, "corrupt embedding header (shape"},
      {"{" + kFrame + R"(, "shape": "big"})", 16, "corrupt embedding header"},
      {R"({"model_type": "vit_t", "orig_h": 0, "orig_w": 512, "input_h": 1024, "input_w": 1024, "target": 1024,
           "shape": [1, 1, 1, 1]})", 4, "corrupt embedding header (image frame)"},
      {"{" + kFrame + R"(, "shape": [1, 1, 2, 2]})", 20, "corrupt embedding file (the header says 16 bytes"},
  };
  for (const auto& c : cases) {
    const fs::path file = dir / "bad.samemb";
    write_bytes(file, samemb(c.json, c.data));
    const auto t0 = std::chrono::steady_clock::now();
    const std::string msg = error_of([&] { sammpa::sam::ImageEmbedding::load(file); });
    EXPECT_LT(seconds_since(t0), 0.5);
    EXPECT_EQ(msg.rfind(file.string() + ": ", 0), 0u) << c.json << " -> " << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.json << " -> " << msg;
  }
  // Header length past the end of the file.
  std::string cut = samemb("{}", 0);
  cut[8] = '\x40';
  write_bytes(dir / "cut.samemb", cut);
  EXPECT_NE(error_of([&] { sammpa::sam::ImageEmbedding::load(dir / "cut.samemb"); }).find("corrupt embedding header"),
            std::string::npos);
  // A consistent file loads.
  write_bytes(dir / "ok.samemb", samemb("{" + kFrame + R"(, "shape": [1, 1, 2, 2]})", 16));
  EXPECT_EQ(sammpa::sam::ImageEmbedding::load(dir / "ok.samemb").features.numel(), 4);
}

TEST(BadInputImage, DecompressionBombIsRefusedFromTheHeader) {
  TempDir dir;
  // A MetaImage header claiming 40000 x 40000 8-bit pixels (1.6 GB, 12 GB as float) with 16 bytes of data.
  auto mha = [&](const std::string& name, const std::string& size) {
    write_bytes(dir / name, "ObjectType = Image\nNDims = 2\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
                            "DimSize = " + size +
                                "\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n" + std::string(16, '\0'));
    return dir / name;
  };
  const fs::path wide = mha("wide.mha", "40000 4");
  const fs::path big = mha("big.mha", "10000 10000");
  for (const fs::path& f : {wide, big}) {
    const auto t0 = std::chrono::steady_clock::now();
    const long rss0 = peak_rss_kb();
    const std::string msg = error_of([&] { sammpa::read_image(f); });
    EXPECT_LT(seconds_since(t0), 1.0);
    EXPECT_LT(peak_rss_kb() - rss0, 100 * 1024);
    EXPECT_EQ(msg.rfind(f.string() + ": image of ", 0), 0u) << msg;
    EXPECT_NE(msg.find("is too large (at most 16384 per side and 67108864 pixels)"), std::string::npos) << msg;
    EXPECT_NE(error_of([&] { sammpa::read_image_size(f); }), "");
  }
  // Within the limits the same kind of header reads (and a truncated one fails on its data, not before).
  const fs::path small = mha("small.mha", "4 4");
  EXPECT_EQ(sammpa::read_image(small).size(), cv::Size(4, 4));
}

TEST(BadInputSupportList, WrongJsonTypesAreInputErrors) {
  TempDir dir;
  struct Case {
    std::string json, expect;
  } cases[] = {
      {R"({"support": ["a", 7]})", "\"support\" entry 1 is a number, not an image name"},
      {R"({"support": [["a"]]})", "\"support\" entry 0 is a array, not an image name"},
      {R"({"support": [""]})", "\"support\" entry 0 is an empty string"},
      {R"({"support": "a,b"})", "no \"support\" array"},
      {R"(["a", "b"])", "no \"support\" array"},
      {R"({"support": [)", "invalid JSON"},
      {R"({"support": []})", "support list is empty"},
      {R"({"support": ["a"], "alternates": ["b"]})", "\"alternates\" is not one list of image names per support"},
      {R"({"support": ["a", "b"], "alternates": [["c"]]})", "\"alternates\" is not one list"},
      {R"({"support": ["a"], "alternates": [[1]]})", "\"alternates\" is not one list"},
  };
  for (const auto& c : cases) {
    const fs::path file = dir / "sel.json";
    write_bytes(file, c.json);
    const std::string msg = error_of([&] { sammpa::read_support_list(file.string()); });
    EXPECT_EQ(msg.rfind(file.string() + ": ", 0), 0u) << c.json << " -> " << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.json << " -> " << msg;
  }
  write_bytes(dir / "ok.json", R"({"support": ["a", "b"]})");
  EXPECT_EQ(sammpa::read_support_list((dir / "ok.json").string()), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(sammpa::read_support_list_with_alternates((dir / "ok.json").string()).alternates.empty());
  write_bytes(dir / "alt.json", R"({"support": ["a", "b"], "alternates": [["c", "d"], []]})");
  EXPECT_EQ(sammpa::read_support_list_with_alternates((dir / "alt.json").string()).alternates,
            (std::vector<std::vector<std::string>>{{"c", "d"}, {}}));
  // A literal list longer than a file name may be (20 names of 16 letters and more) is a list, not an error.
  std::string many;
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) {
    names.push_back("malignant_" + std::to_string(100 + i) + "_hflip");
    many += (i ? "," : "") + names.back();
  }
  ASSERT_GT(many.size(), 255u);
  EXPECT_EQ(sammpa::read_support_list(many), names);
}

TEST(BadInputTensor, ByteCountOverflowIsCaught) {
  using sammpa::sam::Tensor;
  // 2^31 * 2^31 elements = 2^62, times 4 bytes wraps a 64-bit byte count to 0 without the check.
  EXPECT_THROW(Tensor({int64_t{1} << 31, int64_t{1} << 31}), std::length_error);
  EXPECT_THROW(Tensor({int64_t{1} << 62, 4}), std::length_error);
  EXPECT_THROW(Tensor({-1, 4}), std::invalid_argument);
  EXPECT_EQ(Tensor({3, 0}).numel(), 0);
  EXPECT_EQ(Tensor({3, 5}).numel(), 15);
}

// An exception inside an OpenMP region used to call std::terminate; ParallelErrors carries it out.
TEST(BadInputParallel, ExceptionsLeaveOpenMpRegions) {
  sammpa::ParallelErrors errors;
  std::vector<int> done(1000, 0);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < 1000; ++i)
    errors.run([&] {
      if (i == 500) throw sammpa::InputError("item 500: bad");
      done[static_cast<size_t>(i)] = 1;
    });
  EXPECT_TRUE(errors.failed());
  try {
    errors.rethrow();
    FAIL() << "no exception";
  } catch (const sammpa::InputError& e) {
    EXPECT_STREQ(e.what(), "item 500: bad");
  }
  EXPECT_EQ(done[500], 0);
  // With worksharing inside a parallel region (a barrier every thread must reach).
  sammpa::ParallelErrors inner;
#pragma omp parallel
  {
    inner.run([&] { throw std::runtime_error("per-thread set-up failed"); });
#pragma omp for
    for (int i = 0; i < 100; ++i) inner.run([&] { done[static_cast<size_t>(i)] = 2; });
  }
  EXPECT_THROW(inner.rethrow(), std::runtime_error);
  sammpa::ParallelErrors none;
#pragma omp parallel for
  for (int i = 0; i < 100; ++i) none.run([&] { done[static_cast<size_t>(i)] = 3; });
  EXPECT_NO_THROW(none.rethrow());
  EXPECT_EQ(done[99], 3);
}
