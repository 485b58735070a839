#pragma once
// A BERT-shaped TorchScript encoder with fixed seeded weights, built in C++. No pretrained
// weights exist on kgrec's machines, so the tests, the demo and the benchmark use this one to
// exercise the whole embed path; it is marked as such in the module (kSeededEncoderMarker)
// and must never be presented as a pretrained model. Its forward has the interface of an
// exported Hugging Face model: forward(input_ids, attention_mask) -> [batch, seq, hidden].

#include <cstdint>
#include <string>

#include <torch/csrc/jit/api/module.h>

namespace kgrec {

// Attribute (bool, true) that marks the seeded test encoder.
constexpr const char* kSeededEncoderMarker = "kgrec_seeded_test_encoder";

struct SeededEncoderConfig {
  std::int64_t vocab_size = 0;  // rows of the token embedding table; must match the vocab file
  std::int64_t hidden = 64;
  std::int64_t layers = 2;
  std::int64_t heads = 2;  // must divide hidden
  std::int64_t intermediate = 128;
  std::int64_t max_positions = 512;
  std::uint64_t seed = 1;
};

// The module in memory: the same config and seed give bit-identical weights on every machine
// (kgrec's SplitMix64, not LibTorch's generators). ConfigError for an invalid config.
torch::jit::Module buildSeededEncoder(const SeededEncoderConfig& config);

// buildSeededEncoder, saved as a TorchScript file atomically (temporary sibling, rename).
void writeSeededEncoder(const SeededEncoderConfig& config, const std::string& path);

}  // namespace kgrec
