#pragma once
// The settings of a Hugging Face model folder as downloaded (or as a sentence-transformers
// package ships it): config.json (architecture and sizes), vocab.txt, tokenizer_config.json
// (lower-casing, maximum length), model.safetensors (weights), and for sentence-transformers
// folders modules.json, 1_Pooling/config.json (pooling), sentence_bert_config.json
// (max_seq_length) and a Normalize module. Read once, checked against each other, so that a
// wrong folder fails before any weight is loaded (docs/embedding.md).

#include <cstdint>
#include <string>
#include <vector>

namespace kgrec {

enum class Pooling { kMean, kCls };

struct PretrainedModelFolder {
  std::string dir;
  std::string config_path;   // config.json
  std::string vocab_path;    // vocab.txt
  std::string weights_path;  // model.safetensors
  // Every settings file read, for the content hash that keys the /features/lm cache.
  std::vector<std::string> settings_paths;

  // config.json (BERT-family: model_type bert)
  std::string model_type;
  std::int64_t vocab_size = 0;
  std::int64_t hidden = 0;
  std::int64_t layers = 0;
  std::int64_t heads = 0;
  std::int64_t intermediate = 0;
  std::int64_t max_positions = 0;
  std::int64_t type_vocab_size = 0;
  double layer_norm_eps = 1e-12;

  // tokenizer and sentence-transformers settings
  std::int64_t max_seq_length = 0;  // default --max-len: sentence_bert_config.json, else the
                                    // tokenizer's model_max_length, capped by max_positions
  Pooling pooling = Pooling::kMean;  // 1_Pooling/config.json; plain BERT folders: mean
  bool normalize = false;           // modules.json lists sentence_transformers.models.Normalize
  bool sentence_transformers = false;  // modules.json present

  // What to call it in reports: the folder as given, its architecture and size.
  std::string description() const;
};

// Reads and checks the folder. ConfigError naming the file and field for a missing file, a
// missing or mistyped field, an architecture other than BERT's (model_type), hidden size not
// divisible by the heads, an activation other than exact GELU, a cased tokenizer
// (do_lower_case false: kgrec's WordPiece tokenizer is uncased), a pooling mode other than mean
// or CLS, or only pytorch_model.bin (pickle, not read by kgrec) where model.safetensors is
// expected.
PretrainedModelFolder readPretrainedModelFolder(const std::string& dir);

}  // namespace kgrec
