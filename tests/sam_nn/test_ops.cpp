// Each op against PyTorch on the inputs make_fixtures.py saved (same case names, same parameters).
#include <gtest/gtest.h>

#include "nn_fixture.h"
#include "sam/nn/ops.h"

namespace sammpa::sam::nn {
namespace {

using test::close_to;

constexpr float kRtol = 1e-5f, kAtol = 1e-5f;

struct Case {
  std::string name;
  Tensor in(const std::string& array) const {
    return test::load_tensor(std::filesystem::path(SAMMPA_NN_FIXTURES) / name / (array + ".npy"));
  }
  Tensor want() const { return in("y"); }
};

TEST(NnLinear, MatchesTorch) {
  for (auto [name, act] : {std::pair{"linear", Act::none}, {"linear_relu", Act::relu}, {"linear_gelu", Act::gelu},
                           {"linear_big", Act::none}}) {
    Case c{name};
    EXPECT_TRUE(close_to(linear(c.in("x"), c.in("w"), c.in("b"), act), c.want(), kRtol, kAtol)) << name;
  }
  Case c{"linear_nobias"};
  EXPECT_TRUE(close_to(linear(c.in("x"), c.in("w"), Tensor()), c.want(), kRtol, kAtol));
}

TEST(NnLinear, RejectsMismatchedWeight) {
  EXPECT_THROW(linear(Tensor::zeros({2, 5}), Tensor::zeros({3, 4}), Tensor()), std::invalid_argument);
}

TEST(NnMatmul, MatchesTorch) {
  Case c{"matmul"};
  EXPECT_TRUE(close_to(matmul(c.in("a"), c.in("b")), c.want(), kRtol, kAtol));
  Case t{"matmul_tb_alpha"};
  EXPECT_TRUE(close_to(matmul(t.in("a"), t.in("b"), true, 0.125f), t.want(), kRtol, kAtol));
  Case bc{"matmul_broadcast"};
  EXPECT_TRUE(close_to(matmul(bc.in("a"), bc.in("b")), bc.want(), kRtol, kAtol));
}

TEST(NnConv2d, MatchesTorch) {
  Case c{"conv"};
  EXPECT_TRUE(close_to(conv2d(c.in("x"), c.in("w"), c.in("b"), 1, 1), c.want(), kRtol, kAtol));
  Case s{"conv_s2_relu"};
  EXPECT_TRUE(close_to(conv2d(s.in("x"), s.in("w"), s.in("b"), 2, 1, 1, Act::relu), s.want(), kRtol, kAtol));
  Case d{"conv_depthwise"};
  EXPECT_TRUE(close_to(conv2d(d.in("x"), d.in("w"), d.in("b"), 1, 1, 8), d.want(), kRtol, kAtol));
  Case g{"conv_groups_nobias_gelu"};
  EXPECT_TRUE(close_to(conv2d(g.in("x"), g.in("w"), Tensor(), 1, 0, 2, Act::gelu), g.want(), kRtol, kAtol));
  Case p{"conv_patch"};
  EXPECT_TRUE(close_to(conv2d(p.in("x"), p.in("w"), p.in("b"), 2, 0), p.want(), kRtol, kAtol));
}

TEST(NnConv2d, NewWeightsAtAReusedAddressAreNotServedFromTheCache) {
  Case c{"conv"};
  const Tensor x = c.in("x"), b = c.in("b");
  Tensor w = c.in("w");
  const Tensor first = conv2d(x, w, b, 1, 1);
  for (int64_t i = 0; i < w.numel(); ++i) w.data()[i] *= -1.f;  // same address, new values
  const Tensor second = conv2d(x, w, b, 1, 1);
  Tensor expected = c.want();
  for (int64_t i = 0; i < expected.numel(); ++i) {
    const int64_t ch = (i / (expected.dim(2) * expected.dim(3))) % expected.dim(1);
    expected.data()[i] = 2 * b.data()[ch] - expected.data()[i];  // conv(x, -w) + b = 2b - (conv(x, w) + b)
  }
  EXPECT_TRUE(close_to(second, expected, kRtol, kAtol));
  EXPECT_TRUE(close_to(first, c.want(), kRtol, kAtol));
}

TEST(NnConvTranspose2d, MatchesTorch) {
  Case c{"deconv"};
  EXPECT_TRUE(close_to(conv_transpose2d(c.in("x"), c.in("w"), c.in("b"), 2), c.want(), kRtol, kAtol));
  Case k{"deconv_k3_nobias"};
  EXPECT_TRUE(close_to(conv_transpose2d(k.in("x"), k.in("w"), Tensor(), 2), k.want(), kRtol, kAtol));
}

TEST(NnNorms, MatchTorch) {
  Case l{"layer_norm"};
  EXPECT_TRUE(close_to(layer_norm(l.in("x"), l.in("g"), l.in("b")), l.want(), kRtol, kAtol));
  Case l2{"layer_norm_2d"};
  EXPECT_TRUE(close_to(layer_norm_2d(l2.in("x"), l2.in("g"), l2.in("b")), l2.want(), kRtol, kAtol));
  Case bn{"batch_norm_2d"};
  EXPECT_TRUE(close_to(batch_norm_2d(bn.in("x"), bn.in("g"), bn.in("b"), bn.in("mean"), bn.in("var")), bn.want(),
                       kRtol, kAtol));
}

TEST(NnElementwise, MatchesTorch) {
  Case g{"gelu"};
  Tensor x = g.in("x");
  gelu_(x);
  EXPECT_TRUE(close_to(x, g.want(), kRtol, kAtol));
  Case r{"relu"};
  x = r.in("x");
  relu_(x);
  EXPECT_TRUE(close_to(x, r.want(), 0, 0));
  Case s{"softmax"};
  x = s.in("x");
  softmax_(x);
  EXPECT_TRUE(close_to(x, s.want(), kRtol, 1e-7f));
}

TEST(NnAdd, MatchesTorch) {
  Case c{"add"};
  EXPECT_TRUE(close_to(add(c.in("a"), c.in("b")), c.want(), 0, 0));
  Tensor a = c.in("a");
  add_(a, c.in("b"));
  EXPECT_TRUE(close_to(a, c.want(), 0, 0));
  Case nb{"add_bias_nchw"};
  Tensor x = nb.in("x");
  add_bias_nchw_(x, nb.in("b"));
  EXPECT_TRUE(close_to(x, nb.want(), 0, 0));
  EXPECT_THROW(add(Tensor::zeros({2}), Tensor::zeros({3})), std::invalid_argument);
}

TEST(NnLayout, MatchesTorch) {
  Case p{"permute"};
  EXPECT_TRUE(close_to(permute(p.in("x"), {2, 0, 3, 1}), p.want(), 0, 0));
  Case h{"nchw_to_nhwc"};
  EXPECT_TRUE(close_to(nchw_to_nhwc(h.in("x")), h.want(), 0, 0));
  EXPECT_TRUE(close_to(nhwc_to_nchw(h.want()), h.in("x"), 0, 0));
  EXPECT_THROW(permute(h.in("x"), {0, 1, 1, 2}), std::invalid_argument);
}

TEST(NnResizeBilinear, MatchesTorch) {
  for (auto [name, oh, ow] : {std::tuple{"resize_up", 11, 17}, {"resize_1024", 1024, 1024}, {"resize_down", 100, 37}}) {
    Case c{name};
    EXPECT_TRUE(close_to(resize_bilinear(c.in("x"), oh, ow), c.want(), kRtol, kAtol)) << name;
  }
}

}  // namespace
}  // namespace sammpa::sam::nn

namespace sammpa::sam::nn {
namespace {

TEST(NnAttention, MatchesTorch) {
  Case c{"attention"};
  EXPECT_TRUE(close_to(attention(c.in("q"), c.in("k"), c.in("v"), 8), c.want(), kRtol, kAtol));
  // Unbatched input gives the first batch's result.
  const Tensor q = c.in("q"), k = c.in("k"), v = c.in("v"), want = c.want();
  const Tensor first = attention(Tensor::view(q.data(), {q.dim(1), q.dim(2)}),
                                 Tensor::view(k.data(), {k.dim(1), k.dim(2)}),
                                 Tensor::view(v.data(), {v.dim(1), v.dim(2)}), 8);
  EXPECT_TRUE(close_to(first, Tensor::view(want.data(), {want.dim(1), want.dim(2)}), kRtol, kAtol));
  EXPECT_THROW(attention(q, k, v, 3), std::invalid_argument);
}

TEST(NnConvTranspose2d, FusedGeluMatchesTorch) {
  Case c{"deconv_gelu"};
  EXPECT_TRUE(close_to(conv_transpose2d(c.in("x"), c.in("w"), c.in("b"), 2, Act::gelu), c.want(), kRtol, kAtol));
}

}  // namespace
}  // namespace sammpa::sam::nn
