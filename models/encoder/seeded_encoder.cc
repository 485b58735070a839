#include "models/encoder/seeded_encoder.h"

#include <cmath>
#include <vector>

#include <torch/types.h>

#include "engine/common/atomic_output.h"
#include "engine/common/error.h"
#include "engine/common/random.h"

namespace kgrec {
namespace {

// Post-LayerNorm BERT block (as bert-base and MiniLM): embeddings + LayerNorm, then per layer
// masked multi-head self-attention and a GELU feed-forward, each with residual + LayerNorm.
// Per-layer weights are stacked on a leading layer dimension so one loop covers all layers.
// Padded keys get -10000 before the softmax, as BERT does, so their weight is exactly 0.
constexpr const char* kForwardSource = R"(
def forward(self, input_ids, attention_mask):
    b = input_ids.size(0)
    s = input_ids.size(1)
    positions = torch.arange(s, device=input_ids.device)
    x = torch.embedding(self.word_embeddings, input_ids) + torch.embedding(self.position_embeddings, positions).unsqueeze(0)
    x = torch.layer_norm(x, [self.hidden], self.embeddings_ln_weight, self.embeddings_ln_bias, 1e-12)
    mask = (1.0 - attention_mask.to(x.dtype)).unsqueeze(1).unsqueeze(2) * -10000.0
    head_dim = self.hidden // self.num_heads
    scale = 1.0 / (float(head_dim) ** 0.5)
    for i in range(self.num_layers):
        q = torch.linear(x, self.query_weight[i], self.query_bias[i]).view(b, s, self.num_heads, head_dim).transpose(1, 2)
        k = torch.linear(x, self.key_weight[i], self.key_bias[i]).view(b, s, self.num_heads, head_dim).transpose(1, 2)
        v = torch.linear(x, self.value_weight[i], self.value_bias[i]).view(b, s, self.num_heads, head_dim).transpose(1, 2)
        probs = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * scale + mask, -1)
        context = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, self.hidden)
        x = torch.layer_norm(x + torch.linear(context, self.output_weight[i], self.output_bias[i]), [self.hidden], self.attention_ln_weight[i], self.attention_ln_bias[i], 1e-12)
        h = torch.gelu(torch.linear(x, self.intermediate_weight[i], self.intermediate_bias[i]))
        x = torch.layer_norm(x + torch.linear(h, self.ffn_output_weight[i], self.ffn_output_bias[i]), [self.hidden], self.ffn_ln_weight[i], self.ffn_ln_bias[i], 1e-12)
    return x
)";

// BERT's initialiser range; uniform with this standard deviation keeps the generator simple.
constexpr double kInitStd = 0.02;

class WeightFactory {
 public:
  explicit WeightFactory(std::uint64_t seed) : rng_(seed) {}

  torch::Tensor random(std::vector<std::int64_t> shape) {
    torch::Tensor t = torch::empty(shape, torch::kFloat32);
    float* p = t.data_ptr<float>();
    const double half_width = kInitStd * std::sqrt(3.0);
    for (std::int64_t i = 0; i < t.numel(); ++i) {
      p[i] = static_cast<float>((2.0 * rng_.uniform() - 1.0) * half_width);
    }
    return t;
  }

 private:
  SplitMix64 rng_;
};

}  // namespace

torch::jit::Module buildSeededEncoder(const SeededEncoderConfig& c) {
  if (c.vocab_size < 1 || c.hidden < 1 || c.layers < 1 || c.heads < 1 || c.intermediate < 1 ||
      c.max_positions < 2 || c.hidden % c.heads != 0) {
    throw ConfigError(fmt::format(
        "seeded encoder: invalid config (vocab {}, hidden {}, layers {}, heads {}, "
        "intermediate {}, positions {}); all must be positive and heads must divide hidden",
        c.vocab_size, c.hidden, c.layers, c.heads, c.intermediate, c.max_positions));
  }
  torch::jit::Module m("kgrec.SeededBertEncoder");
  WeightFactory w(c.seed);
  const std::int64_t L = c.layers, H = c.hidden, I = c.intermediate;
  const auto param = [&](const char* name, torch::Tensor t) {
    m.register_parameter(name, t, /*is_buffer=*/false);
  };
  param("word_embeddings", w.random({c.vocab_size, H}));
  param("position_embeddings", w.random({c.max_positions, H}));
  param("embeddings_ln_weight", torch::ones({H}));
  param("embeddings_ln_bias", torch::zeros({H}));
  for (const char* name : {"query", "key", "value", "output"}) {
    param((std::string(name) + "_weight").c_str(), w.random({L, H, H}));
    param((std::string(name) + "_bias").c_str(), torch::zeros({L, H}));
  }
  param("attention_ln_weight", torch::ones({L, H}));
  param("attention_ln_bias", torch::zeros({L, H}));
  param("intermediate_weight", w.random({L, I, H}));
  param("intermediate_bias", torch::zeros({L, I}));
  param("ffn_output_weight", w.random({L, H, I}));
  param("ffn_output_bias", torch::zeros({L, H}));
  param("ffn_ln_weight", torch::ones({L, H}));
  param("ffn_ln_bias", torch::zeros({L, H}));
  m.register_attribute("hidden", c10::IntType::get(), H);
  m.register_attribute("num_layers", c10::IntType::get(), L);
  m.register_attribute("num_heads", c10::IntType::get(), c.heads);
  m.register_attribute("vocab_size", c10::IntType::get(), c.vocab_size);
  m.register_attribute(kSeededEncoderMarker, c10::BoolType::get(), true);
  m.define(kForwardSource);
  m.eval();
  return m;
}

void writeSeededEncoder(const SeededEncoderConfig& config, const std::string& path) {
  const torch::jit::Module m = buildSeededEncoder(config);
  AtomicOutput out(path);
  m.save(out.tempPath());
  out.commit();
}

}  // namespace kgrec
