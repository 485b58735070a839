#pragma once
// A BERT-family encoder (BERT, MiniLM, bge, e5: post-LayerNorm transformer with absolute
// position embeddings and exact GELU) built from LibTorch modules in C++, its weights read
// from a Hugging Face model folder's model.safetensors. Frozen: eval mode, no gradients.
//
// Speed: every layer runs on the packed real tokens of the batch only, never on padding, with
// one fused QKV projection. On the CPU in float32 attention too runs packed, sequence by
// sequence (packed_attention.h); elsewhere (CUDA, fp16) it uses the padded
// [batch, heads, seq, seq] layout with baddbmm + softmax.

#include <cstdint>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "models/encoder/pretrained_model_folder.h"

namespace kgrec {

class SafetensorsFile;

// Where a batch's packed real tokens sit in its padded [batch, seq] layout.
struct PackedBatch {
  torch::Tensor real_positions;  // int64 [tokens]: row-major positions of the real tokens
  std::int64_t batch = 0;
  std::int64_t seq = 0;
  // Packed attention: real tokens per row (the packed rows are grouped by row).
  std::vector<std::int64_t> lengths;
  // Padded attention, when set: [batch * heads, 1, seq], 0 for real keys, -inf-like for padding.
  torch::Tensor mask_bias;
};

class BertLayerImpl : public torch::nn::Module {
 public:
  BertLayerImpl(std::int64_t hidden, std::int64_t heads, std::int64_t intermediate, double eps);
  // x: packed real tokens [tokens, hidden].
  torch::Tensor forward(const torch::Tensor& x, const PackedBatch& batch);

  torch::nn::Linear qkv{nullptr};  // query, key and value stacked: [3 * hidden, hidden]
  torch::nn::Linear attention_output{nullptr};
  torch::nn::LayerNorm attention_norm{nullptr};
  torch::nn::Linear intermediate{nullptr};
  torch::nn::Linear output{nullptr};
  torch::nn::LayerNorm output_norm{nullptr};

 private:
  // Context of the packed tokens through the padded layout (batch.mask_bias set).
  torch::Tensor paddedAttention(const torch::Tensor& packed_qkv, const PackedBatch& batch) const;

  std::int64_t hidden_;
  std::int64_t heads_;
};
TORCH_MODULE(BertLayer);

class BertEncoderImpl : public torch::nn::Module {
 public:
  // The architecture from the folder's config; weights still at LibTorch's initial values.
  explicit BertEncoderImpl(const PretrainedModelFolder& config);

  // Copies every weight from the safetensors file (names as Hugging Face's BertModel writes
  // them, with or without a leading "bert."). ConfigError naming the file and tensor for a
  // missing tensor or one whose shape disagrees with config.json.
  void loadWeights(const SafetensorsFile& weights);

  // Token states [batch, seq, hidden] for int64 ids and mask [batch, seq] (1 = real token);
  // rows of padding positions are zero.
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);

 private:
  PretrainedModelFolder config_;
  torch::nn::Embedding word_embeddings{nullptr};
  torch::nn::Embedding position_embeddings{nullptr};
  torch::nn::Embedding token_type_embeddings{nullptr};
  torch::nn::LayerNorm embedding_norm{nullptr};
  std::vector<BertLayer> layers_;
};
TORCH_MODULE(BertEncoder);

// The folder's encoder with its weights, frozen (eval mode, no parameter requires grad).
BertEncoder loadBertEncoder(const PretrainedModelFolder& folder);

}  // namespace kgrec
