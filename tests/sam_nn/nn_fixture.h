#pragma once
// Loads the PyTorch reference values written by make_fixtures.py and compares tensors against them.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "npy.h"
#include "sam/nn/tensor.h"

namespace sammpa::test {

inline sam::Tensor load_tensor(const std::filesystem::path& file) {
  Npy a = read_npy(file);
  sam::Tensor t(a.shape);
  std::copy(a.data.begin(), a.data.end(), t.data());
  return t;
}

// Every element within atol + rtol * |reference|; reports the worst element.
inline ::testing::AssertionResult close_to(const sam::Tensor& got, const sam::Tensor& want, float rtol,
                                           float atol) {
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure() << "shape " << got.shape_str() << " but reference " << want.shape_str();
  double worst = 0;
  int64_t worst_at = -1;
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double err = std::abs(double(got.data()[i]) - want.data()[i]);
    const double excess = err - (atol + rtol * std::abs(want.data()[i]));
    if (!(excess <= 0) && (worst_at < 0 || excess > worst || std::isnan(err))) worst = excess, worst_at = i;
  }
  if (worst_at < 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "element " << worst_at << ": got " << got.data()[worst_at]
                                       << ", reference " << want.data()[worst_at];
}

}  // namespace sammpa::test
