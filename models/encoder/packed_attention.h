#pragma once
// Multi-head self-attention straight on the packed real tokens of a batch (no padding, no mask):
// each sequence's tokens attend to each other only. A CPU float32 kernel, vectorised (AVX2 and
// FMA where the CPU has them, chosen at run time), that reads q, k and v in place from the fused
// QKV projection and writes the context rows in place: none of the scatter into a padded
// layout, head permutes, mask bias and gather that the batched-matrix-product route needs,
// which cost as much as the attention itself for short texts.

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace kgrec {

// Whether packedSelfAttention() takes this case: a contiguous CPU float32 qkv and a head
// width that is a multiple of 16. The second form decides ahead of a forward, from the rows'
// options and the head width alone (a projection's output is contiguous).
bool packedSelfAttentionSupports(const torch::Tensor& qkv, std::int64_t heads);
bool packedSelfAttentionSupports(const torch::TensorOptions& rows, std::int64_t head_dim);

// qkv: [tokens, 3 * hidden], each row query | key | value, heads side by side in each; rows
// grouped by sequence, lengths[s] rows for sequence s (sum = tokens). Returns the context
// [tokens, hidden]: per sequence and head, softmax(q k^T / sqrt(head_dim)) v. Sequences run in
// parallel over LibTorch's intra-op threads; each one's result does not depend on the others
// or on the thread count.
torch::Tensor packedSelfAttention(const torch::Tensor& qkv, const std::vector<std::int64_t>& lengths,
                                  std::int64_t heads);

}  // namespace kgrec
