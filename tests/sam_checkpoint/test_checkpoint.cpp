// Checkpoint reader against files written by torch.save (make_fixtures.py): every tensor bit-exact.
#include <gtest/gtest.h>

#include <algorithm>

#include "fixtures.h"
#include "sam/checkpoint/checkpoint.h"

using sammpa::sam::Checkpoint;
using sammpa::sam::Shape;
using sammpa::test::fixture;

TEST(Checkpoint, DtypesLayoutsAndSharedStoragesMatchTorch) { sammpa::test::expect_matches_torch("tensors"); }

TEST(Checkpoint, Zip64ContainerMatchesTorch) { sammpa::test::expect_matches_torch("tensors", "tensors_zip64.pt"); }

TEST(Checkpoint, UnalignedEntriesAreCopiedCorrectly) {
  sammpa::test::expect_matches_torch("tensors", "tensors_unaligned.pt");
}

TEST(Checkpoint, TinyOfficialSamModelMatchesTorch) { sammpa::test::expect_matches_torch("tiny_sam_vit"); }

TEST(Checkpoint, HalfPrecisionModelIsConvertedExactly) { sammpa::test::expect_matches_torch("tiny_sam_vit_half"); }

TEST(Checkpoint, KeysAreSortedAndComplete) {
  const auto ckpt = Checkpoint::open(fixture("tensors.pt"));
  const auto keys = ckpt.keys();
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(keys.size(), ckpt.size());
  EXPECT_TRUE(ckpt.has("f32_4d"));
  EXPECT_FALSE(ckpt.has("f32_4"));
  EXPECT_EQ(ckpt.file(), fixture("tensors.pt"));
}

TEST(Checkpoint, ContiguousFloat32IsAViewOthersAreCopies) {
  const auto ckpt = Checkpoint::open(fixture("tensors.pt"));
  // Views of the mapped file return the same address each time; converted tensors are fresh copies.
  EXPECT_EQ(ckpt.get("f32_4d").data(), ckpt.get("f32_4d").data());
  EXPECT_EQ(ckpt.get("shared_a").data() + 40, ckpt.get("shared_b").data());  // offsets 10 and 50, one storage
  EXPECT_NE(ckpt.get("f16").data(), ckpt.get("f16").data());
  EXPECT_NE(ckpt.get("transposed").data(), ckpt.get("transposed").data());
}

TEST(Checkpoint, ViewsOutliveTheOriginalHandle) {
  sammpa::sam::Tensor t;
  Checkpoint copy = Checkpoint::open(fixture("tensors.pt"));
  {
    const auto original = Checkpoint::open(fixture("tensors.pt"));
    copy = original;
    t = original.get("f32_vector");
  }
  EXPECT_TRUE(sammpa::test::same_bits(t, sammpa::test::read_npy(fixture("tensors.expected/f32_vector.npy"))));
}

TEST(Checkpoint, ViewsKeepTheFileMappedWhenEveryHandleIsGone) {
  sammpa::sam::Tensor t;
  {
    const auto ckpt = Checkpoint::open(fixture("tensors.pt"));
    t = ckpt.get("f32_vector");
    EXPECT_FALSE(t.owner().expired());  // a view, owned by the mapping
  }
  EXPECT_FALSE(t.owner().expired());
  EXPECT_TRUE(sammpa::test::same_bits(t, sammpa::test::read_npy(fixture("tensors.expected/f32_vector.npy"))));
}

TEST(Checkpoint, WrappedStateDictIsFound) {
  const auto ckpt = Checkpoint::open(fixture("wrapped.pt"));
  EXPECT_EQ(ckpt.keys(), (std::vector<std::string>{"b", "w"}));
  EXPECT_TRUE(sammpa::test::same_bits(ckpt.get("w"), sammpa::test::read_npy(fixture("wrapped_model.expected/w.npy"))));
}

TEST(Checkpoint, DataParallelPrefixIsDropped) {
  const auto ckpt = Checkpoint::open(fixture("data_parallel.pt"));
  EXPECT_EQ(ckpt.keys(), (std::vector<std::string>{"b", "w"}));
  EXPECT_TRUE(sammpa::test::same_bits(ckpt.get("b"), sammpa::test::read_npy(fixture("wrapped_model.expected/b.npy"))));
}

TEST(Checkpoint, HandBuiltPickleWithOffsetAndStrides) {
  // Storage holds 0..15; the tensor starts at 2 with shape [3, 2] and row stride 4: 2 3 / 6 7 / 10 11.
  const auto t = Checkpoint::open(fixture("bad/hand_built_ok.pt")).get("w");
  ASSERT_EQ(t.shape(), (Shape{3, 2}));
  const float expected[] = {2, 3, 6, 7, 10, 11};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t.data()[i], expected[i]);
}
