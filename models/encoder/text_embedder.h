#pragma once
// Frozen LM text features: a BERT-family encoder run once over every item and entity text,
// pooled and normalised, stored as /features/lm of the dataset (docs/embedding.md). The encoder
// is either a pretrained Hugging Face model folder, run natively in C++ (BertEncoder; pooling
// and normalisation as the folder says), or a TorchScript module (any model exported with
// torch.jit.trace or torch.jit.script whose forward takes input_ids and attention_mask and
// returns token states; mean-pooled and L2-normalised), such as the seeded test encoder.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/csrc/jit/api/module.h>
#include <torch/types.h>

#include "models/encoder/bert_encoder.h"
#include "models/encoder/pretrained_model_folder.h"
#include "models/text/wordpiece_tokenizer.h"

namespace kgrec {

class Progress;

struct EmbedOptions {
  // Either a Hugging Face model folder (config.json, vocab.txt, model.safetensors, ...) ...
  std::string model_dir;
  // ... or a TorchScript file (the caller picks or writes one) with its vocab.txt.
  std::string encoder_path;
  std::string vocab_path;
  // Tokens per text, [CLS] and [SEP] included; kModelMaxLen: the model folder's
  // max_seq_length, or kTorchScriptMaxLen for a TorchScript encoder.
  static constexpr std::int64_t kModelMaxLen = 0;
  static constexpr std::int64_t kTorchScriptMaxLen = 64;
  std::int64_t max_len = kModelMaxLen;
  std::int64_t batch = 256;   // texts per forward
  std::string device = "cpu";  // "cpu", "cuda" (the first GPU) or "cuda:N"
  // Compute precision: "fp32" | "fp16" (CUDA only). /features/lm is stored as fp32 either way.
  std::string dtype = "fp32";
  bool force = false;  // recompute even when the cached /features/lm matches
};

// A loaded, checked encoder with its tokenizer. The module is in eval mode and none of its
// parameters requires grad: the encoder is frozen.
class TextEncoder {
 public:
  // Model folder: reads and checks it (readPretrainedModelFolder), ConfigError naming the file
  // and field when vocab.txt and config.json's vocab_size disagree, or when --max-len exceeds
  // max_position_embeddings; the weights' shapes are checked as they load.
  // TorchScript: loads the encoder and vocabulary and probes the encoder with a tiny batch and
  // with the largest vocabulary id at max_len. InputError naming the file for a missing or
  // non-TorchScript encoder, a vocabulary the encoder's embedding table does not fit, a
  // forward that does not take (input_ids, attention_mask) or does not return
  // [batch, seq, hidden]; ConfigError for bad options.
  explicit TextEncoder(const EmbedOptions& options);

  // One unit-norm row per text ([texts, dim], float32, CPU); a zero row for an empty text.
  // Texts are sorted by token count into batches, each padded to its longest text only. With
  // several LibTorch threads on the CPU, the native encoder runs whole batches side by side
  // (one thread each); the vectors are the same as with one thread.
  torch::Tensor embed(const std::vector<std::string>& texts, Progress* progress = nullptr) const;

  std::int64_t dim() const { return dim_; }
  std::int64_t maxLen() const { return max_len_; }
  bool isSeededTestEncoder() const { return seeded_; }
  // The encoder's parameters, whichever kind it is (all frozen: none requires grad).
  std::vector<torch::Tensor> parameters() const;
  // How the encoder is named in reports and in the dataset's attributes.
  const std::string& name() const { return name_; }

 private:
  // Token states of one batch, as float32 [batch, seq, dim] on the compute device.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask) const;

  void loadTorchScript();

  EmbedOptions options_;
  std::optional<PretrainedModelFolder> folder_;  // set for a model folder
  WordPieceTokenizer tokenizer_;
  torch::Device device_;
  torch::ScalarType dtype_;
  // One of the two is set; forward() is non-const in LibTorch.
  mutable BertEncoder bert_{nullptr};
  mutable torch::jit::Module module_;
  Pooling pooling_ = Pooling::kMean;
  bool normalize_ = true;
  std::int64_t max_len_ = 0;
  std::int64_t dim_ = 0;
  bool seeded_ = false;
  std::string name_;
};

struct EmbedReport {
  std::int64_t texts = 0;        // rows written: items then entities
  std::int64_t empty_texts = 0;  // of which without text (zero rows)
  std::int64_t dim = 0;
  double seconds = 0.0;
  bool cached = false;  // /features/lm was already up to date; nothing ran
  std::string encoder_name;  // TextEncoder::name()
};

// Embeds every item and entity text of the dataset into /features/lm: a float32
// [num_items + num_entities, dim] matrix, items first, with provenance attributes on
// /features (docs/format.md). Atomic: the dataset is copied to a temporary sibling, written
// there and renamed over the original, so on any error the original is untouched. Returns
// cached=true without loading the encoder when /features/lm already holds the result for the
// same encoder and vocabulary contents and max_len (unless options.force).
EmbedReport embedDataset(const std::string& dataset_path, const EmbedOptions& options);

}  // namespace kgrec
