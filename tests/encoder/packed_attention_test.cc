// The packed CPU attention kernel against the textbook formula, sequence by sequence.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "models/encoder/packed_attention.h"

namespace kgrec {
namespace {

// softmax(q k^T / sqrt(d)) v per sequence and head, in float64.
torch::Tensor reference(const torch::Tensor& qkv, const std::vector<std::int64_t>& lengths,
                        std::int64_t heads) {
  const std::int64_t hidden = qkv.size(1) / 3;
  const std::int64_t d = hidden / heads;
  const torch::Tensor x = qkv.to(torch::kFloat64);
  std::vector<torch::Tensor> rows;
  std::int64_t first = 0;
  for (const std::int64_t n : lengths) {
    const torch::Tensor s = x.narrow(0, first, n).view({n, 3, heads, d}).permute({1, 2, 0, 3});
    const torch::Tensor p = torch::softmax(torch::matmul(s[0], s[1].transpose(1, 2)) / std::sqrt(double(d)), -1);
    rows.push_back(torch::matmul(p, s[2]).permute({1, 0, 2}).reshape({n, hidden}));
    first += n;
  }
  return torch::cat(rows).to(torch::kFloat32);
}

TEST(PackedAttention, MatchesTheFormulaForEveryLengthAndHeadWidth) {
  torch::manual_seed(7);
  // Lengths around the kernel's blocks (4 query rows, 16 keys), and a long one.
  const std::vector<std::int64_t> lengths = {1, 2, 3, 4, 5, 15, 16, 17, 31, 33, 130};
  std::int64_t tokens = 0;
  for (const std::int64_t n : lengths) tokens += n;
  for (const auto& [hidden, heads] : std::vector<std::pair<std::int64_t, std::int64_t>>{{32, 2}, {64, 2}, {96, 3}}) {
    ASSERT_TRUE(packedSelfAttentionSupports(torch::zeros({1, 3 * hidden}), heads));
    // Large scores too (scale 4): softmax rows far from uniform, some weights underflow.
    const torch::Tensor qkv = torch::randn({tokens, 3 * hidden}) * 4;
    const torch::Tensor got = packedSelfAttention(qkv, lengths, heads);
    const torch::Tensor want = reference(qkv, lengths, heads);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_LT((got - want).abs().max().item<double>(), 1e-4) << hidden << " / " << heads;
    // Sequences are independent: the result does not depend on the thread count.
    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    const torch::Tensor serial = packedSelfAttention(qkv, lengths, heads);
    at::set_num_threads(threads);
    EXPECT_TRUE(torch::equal(got, serial));
  }
}

TEST(PackedAttention, TakesOnlyCpuFloat32WithHeadWidthsOfSixteens) {
  EXPECT_TRUE(packedSelfAttentionSupports(torch::zeros({2, 96}), 2));    // width 16
  EXPECT_FALSE(packedSelfAttentionSupports(torch::zeros({2, 48}), 4));   // width 4
  EXPECT_FALSE(packedSelfAttentionSupports(torch::zeros({2, 96}, torch::kFloat64), 2));
  EXPECT_FALSE(packedSelfAttentionSupports(torch::zeros({96, 2}).t(), 2));  // not contiguous
}

}  // namespace
}  // namespace kgrec
