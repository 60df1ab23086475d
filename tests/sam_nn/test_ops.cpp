// Each op against PyTorch on the inputs make_fixtures.py saved (same case names, same parameters).
#include <gtest/gtest.h>

#include <algorithm>

#include "nn_fixture.h"
#include "sam/nn/dnnl_context.h"
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

// The reordered copy of weights (convolutions that choose a blocked weight layout) is keyed by the tensor, its
// address and the owner of its memory: reused while the tensor lives, dropped when it is freed, and a new tensor
// at the freed address gets its own.
TEST(NnWeightCache, CopiesFollowTheirTensor) {
  using dnnl::memory;
  auto filled = [](float sign) {
    Tensor t({32, 32, 3, 3});
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = sign * static_cast<float>((i * 7919) % 201 - 100) / 400;
    return t;
  };
  const memory::dims dims = {32, 32, 3, 3};
  const memory::desc plain = detail::plain_desc({32, 32, 3, 3});
  const memory::desc blocked(dims, memory::data_type::f32, memory::format_tag::OIhw16i16o);
  auto bytes = [&](const memory& m) {
    const auto* p = static_cast<const char*>(m.get_data_handle());
    return std::string(p, p + blocked.get_size());
  };
  // The reference: the same reorder of a bare view of a copy (bare views are never cached).
  auto reference = [&](const Tensor& w) {
    const Tensor copy = w.clone();
    return bytes(detail::reordered_weights(Tensor::view(copy.data(), copy.shape()), plain, blocked));
  };
  const size_t before = cached_weight_copies();
  const std::string expected = reference(filled(1)), expected_negated = reference(filled(-1));
  EXPECT_EQ(cached_weight_copies(), before);
  {
    const Tensor w = filled(1);
    const memory first = detail::reordered_weights(w, plain, blocked);
    EXPECT_EQ(bytes(first), expected);
    EXPECT_EQ(cached_weight_copies(), before + 1);
    EXPECT_EQ(detail::reordered_weights(w, plain, blocked).get_data_handle(), first.get_data_handle());  // reused
    EXPECT_EQ(cached_weight_copies(), before + 1);
  }
  EXPECT_EQ(cached_weight_copies(), before);  // freed with the tensor
  const Tensor w2 = filled(-1);  // likely at the freed address
  EXPECT_EQ(bytes(detail::reordered_weights(w2, plain, blocked)), expected_negated);
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
