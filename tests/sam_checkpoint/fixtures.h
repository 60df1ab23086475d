#pragma once
// Paths of the files make_fixtures.py writes, and exact comparison of a tensor with an expected .npy.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "npy.h"
#include "sam/checkpoint/checkpoint.h"

namespace sammpa::test {

// The message of the CheckpointError that opening `file` throws ("" if it opens).
inline std::string open_error(const std::filesystem::path& file) {
  try {
    sam::Checkpoint::open(file);
  } catch (const sam::CheckpointError& e) {
    return e.what();
  }
  return "";
}

inline std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(SAMMPA_CKPT_FIXTURES) / name;
}

inline nlohmann::json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": cannot open (did the fixture test run?)");
  return nlohmann::json::parse(in);
}

// Every element bit-for-bit (so -0.0 and 0.0 differ, and a conversion must be exact).
inline ::testing::AssertionResult same_bits(const sam::Tensor& t, const Npy& expected) {
  if (t.shape() != expected.shape) return ::testing::AssertionFailure() << "shape " << t.shape_str();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (std::memcmp(&t.data()[i], &expected.data[i], sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "element " << i << ": " << t.data()[i] << " vs " << expected.data[i];
  return ::testing::AssertionSuccess();
}

// Opens FILE (default NAME.pt) and checks every tensor against NAME.expected/KEY.npy and the key list in
// NAME.expected/keys.json.
inline void expect_matches_torch(const std::string& name, const std::string& file = "") {
  const auto ckpt = sam::Checkpoint::open(fixture(file.empty() ? name + ".pt" : file));
  const auto keys = read_json(fixture(name + ".expected/keys.json"));
  ASSERT_EQ(ckpt.size(), keys.size());
  for (const auto& [key, shape] : keys.items()) {
    ASSERT_TRUE(ckpt.has(key)) << key;
    EXPECT_EQ(ckpt.shape(key), shape.get<sam::Shape>()) << key;
    EXPECT_TRUE(same_bits(ckpt.get(key), read_npy(fixture(name + ".expected/" + key + ".npy")))) << key;
  }
}

}  // namespace sammpa::test
