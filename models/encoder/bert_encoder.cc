#include "models/encoder/bert_encoder.h"

#include <cmath>
#include <string>

#include "engine/common/error.h"
#include "models/encoder/packed_attention.h"
#include "models/encoder/safetensors_file.h"

namespace kgrec {
namespace {

// Large negative additive bias for padded keys: exp() of it is exactly 0 in float32.
constexpr float kMaskedKeyBias = -1e30f;

torch::nn::LayerNorm layerNorm(std::int64_t hidden, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden}).eps(eps));
}

}  // namespace

BertLayerImpl::BertLayerImpl(std::int64_t hidden, std::int64_t heads, std::int64_t inter, double eps)
    : hidden_(hidden), heads_(heads) {
  qkv = register_module("qkv", torch::nn::Linear(hidden, 3 * hidden));
  attention_output = register_module("attention_output", torch::nn::Linear(hidden, hidden));
  attention_norm = register_module("attention_norm", layerNorm(hidden, eps));
  intermediate = register_module("intermediate", torch::nn::Linear(hidden, inter));
  output = register_module("output", torch::nn::Linear(inter, hidden));
  output_norm = register_module("output_norm", layerNorm(hidden, eps));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& x, const PackedBatch& batch) {
  const torch::Tensor packed_qkv = qkv(x);
  const torch::Tensor context = batch.mask_bias.defined() ? paddedAttention(packed_qkv, batch)
                                                          : packedSelfAttention(packed_qkv, batch.lengths, heads_);
  // In place where LibTorch allows it: fewer fresh activations a layer.
  const torch::Tensor h = attention_norm(attention_output(context).add_(x));
  torch::Tensor inner = intermediate(h);
  torch::gelu_(inner);
  return output_norm(output(inner).add_(h));
}

torch::Tensor BertLayerImpl::paddedAttention(const torch::Tensor& packed_qkv,
                                             const PackedBatch& b) const {
  const std::int64_t head_dim = hidden_ / heads_;
  const std::int64_t batch = b.batch;
  const std::int64_t seq = b.seq;
  // The projections of the real tokens, scattered into the padded layout.
  torch::Tensor padded = torch::zeros({batch * seq, 3 * hidden_}, packed_qkv.options());
  padded.index_copy_(0, b.real_positions, packed_qkv);
  // [batch, seq, 3, heads, head_dim] -> 3 x [batch * heads, seq, head_dim]
  const torch::Tensor split = padded.view({batch, seq, 3, heads_, head_dim}).permute({2, 0, 3, 1, 4});
  const torch::Tensor q = split[0].reshape({batch * heads_, seq, head_dim});
  const torch::Tensor k = split[1].reshape({batch * heads_, seq, head_dim});
  const torch::Tensor v = split[2].reshape({batch * heads_, seq, head_dim});
  torch::Tensor scores = torch::baddbmm(b.mask_bias, q, k.transpose(1, 2), /*beta=*/1.0,
                                        /*alpha=*/1.0 / std::sqrt(static_cast<double>(head_dim)));
  scores = torch::softmax(scores, -1);
  return torch::bmm(scores, v)
      .view({batch, heads_, seq, head_dim})
      .permute({0, 2, 1, 3})
      .reshape({batch * seq, hidden_})
      .index_select(0, b.real_positions);
}

BertEncoderImpl::BertEncoderImpl(const PretrainedModelFolder& config) : config_(config) {
  const std::int64_t H = config.hidden;
  word_embeddings = register_module("word_embeddings", torch::nn::Embedding(config.vocab_size, H));
  position_embeddings =
      register_module("position_embeddings", torch::nn::Embedding(config.max_positions, H));
  token_type_embeddings =
      register_module("token_type_embeddings", torch::nn::Embedding(config.type_vocab_size, H));
  embedding_norm = register_module("embedding_norm", layerNorm(H, config.layer_norm_eps));
  for (std::int64_t i = 0; i < config.layers; ++i) {
    layers_.push_back(register_module(
        "layer" + std::to_string(i),
        BertLayer(H, config.heads, config.intermediate, config.layer_norm_eps)));
  }
}

void BertEncoderImpl::loadWeights(const SafetensorsFile& weights) {
  // Hugging Face writes BertModel's tensors bare, and BertFor*'s under "bert.".
  const std::string prefix = weights.has("embeddings.word_embeddings.weight") ? "" : "bert.";
  torch::NoGradGuard no_grad;
  const auto load = [&](torch::Tensor target, const std::string& name) {
    const std::string full = prefix + name;
    if (!weights.has(full)) {
      throw ConfigError(fmt::format("{}: tensor '{}' is missing (config.json describes a {}-layer "
                                    "BERT encoder)", weights.path(), full, config_.layers));
    }
    const torch::Tensor value = weights.float32(full);
    if (value.sizes() != target.sizes()) {
      throw ConfigError(fmt::format(
          "{}: tensor '{}' has shape {} but {} implies {} (vocab_size, hidden_size, "
          "intermediate_size, max_position_embeddings or type_vocab_size disagree with the "
          "weights)", weights.path(), full, c10::str(value.sizes()), config_.config_path,
          c10::str(target.sizes())));
    }
    target.copy_(value);
  };
  load(word_embeddings->weight, "embeddings.word_embeddings.weight");
  load(position_embeddings->weight, "embeddings.position_embeddings.weight");
  load(token_type_embeddings->weight, "embeddings.token_type_embeddings.weight");
  load(embedding_norm->weight, "embeddings.LayerNorm.weight");
  load(embedding_norm->bias, "embeddings.LayerNorm.bias");
  const std::int64_t H = config_.hidden;
  for (std::int64_t i = 0; i < config_.layers; ++i) {
    BertLayer& layer = layers_[i];
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    const char* parts[] = {"query", "key", "value"};
    for (std::int64_t j = 0; j < 3; ++j) {
      const std::string name = p + "attention.self." + parts[j];
      load(layer->qkv->weight.narrow(0, j * H, H), name + ".weight");
      load(layer->qkv->bias.narrow(0, j * H, H), name + ".bias");
    }
    load(layer->attention_output->weight, p + "attention.output.dense.weight");
    load(layer->attention_output->bias, p + "attention.output.dense.bias");
    load(layer->attention_norm->weight, p + "attention.output.LayerNorm.weight");
    load(layer->attention_norm->bias, p + "attention.output.LayerNorm.bias");
    load(layer->intermediate->weight, p + "intermediate.dense.weight");
    load(layer->intermediate->bias, p + "intermediate.dense.bias");
    load(layer->output->weight, p + "output.dense.weight");
    load(layer->output->bias, p + "output.dense.bias");
    load(layer->output_norm->weight, p + "output.LayerNorm.weight");
    load(layer->output_norm->bias, p + "output.LayerNorm.bias");
  }
}

torch::Tensor BertEncoderImpl::forward(const torch::Tensor& input_ids,
                                       const torch::Tensor& attention_mask) {
  const std::int64_t batch = input_ids.size(0);
  const std::int64_t seq = input_ids.size(1);
  const std::int64_t H = config_.hidden;
  const torch::Tensor real_positions = attention_mask.reshape({-1}).nonzero().reshape({-1});
  // Embeddings of the real tokens only: word + position + token type 0 (single sentences).
  const torch::Tensor packed_ids = input_ids.reshape({-1}).index_select(0, real_positions);
  const torch::Tensor positions = torch::remainder(real_positions, seq);
  torch::Tensor x = word_embeddings(packed_ids) + position_embeddings(positions) +
                    token_type_embeddings->weight[0];
  x = embedding_norm(x);
  PackedBatch packing;
  packing.real_positions = real_positions;
  packing.batch = batch;
  packing.seq = seq;
  if (packedSelfAttentionSupports(x.options(), H / config_.heads)) {
    // Real tokens per row, in the order nonzero() packed them (row by row).
    const torch::Tensor counts = attention_mask.ne(0).sum(1).to(torch::kCPU, torch::kInt64).contiguous();
    packing.lengths.assign(counts.data_ptr<std::int64_t>(), counts.data_ptr<std::int64_t>() + batch);
  } else {
    packing.mask_bias = ((1 - attention_mask.to(x.scalar_type())) * kMaskedKeyBias)
                            .view({batch, 1, 1, seq})
                            .expand({batch, config_.heads, 1, seq})
                            .reshape({batch * config_.heads, 1, seq});
  }
  for (BertLayer& layer : layers_) x = layer->forward(x, packing);
  torch::Tensor states = torch::zeros({batch * seq, H}, x.options());
  states.index_copy_(0, real_positions, x);
  return states.view({batch, seq, H});
}

BertEncoder loadBertEncoder(const PretrainedModelFolder& folder) {
  BertEncoder encoder(folder);
  encoder->loadWeights(SafetensorsFile(folder.weights_path));
  encoder->eval();
  for (torch::Tensor p : encoder->parameters()) p.requires_grad_(false);
  return encoder;
}

}  // namespace kgrec
