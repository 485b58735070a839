#include "models/encoder/pretrained_model_folder.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/common/error.h"

namespace kgrec {
namespace {

namespace fs = std::filesystem;

nlohmann::json readJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("{}: missing or unreadable", path));
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(fmt::format("{}: not valid JSON ({})", path, e.what()));
  }
}

// A field of a JSON object, of type T; ConfigError naming file and field when absent or mistyped.
template <typename T>
T field(const nlohmann::json& json, const std::string& path, const char* name) {
  if (!json.is_object() || !json.contains(name)) {
    throw ConfigError(fmt::format("{}: field '{}' is missing", path, name));
  }
  try {
    return json.at(name).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw ConfigError(fmt::format("{}: field '{}' has the wrong type ({})", path, name,
                                  json.at(name).dump()));
  }
}

template <typename T>
T fieldOr(const nlohmann::json& json, const std::string& path, const char* name, T fallback) {
  if (!json.is_object() || !json.contains(name) || json.at(name).is_null()) return fallback;
  return field<T>(json, path, name);
}

std::int64_t positiveField(const nlohmann::json& json, const std::string& path, const char* name) {
  const auto value = field<std::int64_t>(json, path, name);
  if (value < 1) throw ConfigError(fmt::format("{}: field '{}' must be positive, got {}", path, name, value));
  return value;
}

}  // namespace

std::string PretrainedModelFolder::description() const {
  return fmt::format("{} ({}, {} layers x {}, {} pooling{}, pretrained)", dir, model_type, layers,
                     hidden, pooling == Pooling::kCls ? "CLS" : "mean",
                     normalize ? ", normalised" : "");
}

PretrainedModelFolder readPretrainedModelFolder(const std::string& dir) {
  if (!fs::is_directory(dir)) {
    throw ConfigError(fmt::format("--model {}: not a directory (expected a Hugging Face model "
                                  "folder with config.json, vocab.txt and model.safetensors)", dir));
  }
  PretrainedModelFolder m;
  m.dir = dir;
  const auto in_dir = [&](const std::string& name) { return (fs::path(dir) / name).string(); };
  m.config_path = in_dir("config.json");
  m.vocab_path = in_dir("vocab.txt");
  m.weights_path = in_dir("model.safetensors");
  if (!fs::is_regular_file(m.weights_path)) {
    if (fs::is_regular_file(in_dir("pytorch_model.bin"))) {
      throw ConfigError(fmt::format(
          "{}: missing; the folder has only pytorch_model.bin (a Python pickle, which kgrec does "
          "not read). Convert it once: python -c \"from transformers import AutoModel; "
          "AutoModel.from_pretrained('{}').save_pretrained('{}', safe_serialization=True)\"",
          m.weights_path, dir, dir));
    }
    throw ConfigError(fmt::format("{}: missing (the model's weights in safetensors format)",
                                  m.weights_path));
  }
  if (!fs::is_regular_file(m.vocab_path)) {
    throw ConfigError(fmt::format("{}: missing (the model's WordPiece vocabulary; kgrec reads "
                                  "BERT-family uncased WordPiece models only)", m.vocab_path));
  }

  const nlohmann::json config = readJson(m.config_path);
  m.settings_paths.push_back(m.config_path);
  m.model_type = field<std::string>(config, m.config_path, "model_type");
  if (m.model_type != "bert") {
    throw ConfigError(fmt::format(
        "{}: field 'model_type' is '{}'; kgrec's native encoder runs BERT-family models only "
        "(model_type 'bert': BERT, MiniLM, bge, e5)", m.config_path, m.model_type));
  }
  m.vocab_size = positiveField(config, m.config_path, "vocab_size");
  m.hidden = positiveField(config, m.config_path, "hidden_size");
  m.layers = positiveField(config, m.config_path, "num_hidden_layers");
  m.heads = positiveField(config, m.config_path, "num_attention_heads");
  m.intermediate = positiveField(config, m.config_path, "intermediate_size");
  m.max_positions = positiveField(config, m.config_path, "max_position_embeddings");
  m.type_vocab_size = positiveField(config, m.config_path, "type_vocab_size");
  m.layer_norm_eps = fieldOr<double>(config, m.config_path, "layer_norm_eps", 1e-12);
  if (m.hidden % m.heads != 0) {
    throw ConfigError(fmt::format("{}: field 'hidden_size' ({}) is not divisible by "
                                  "'num_attention_heads' ({})", m.config_path, m.hidden, m.heads));
  }
  const auto act = fieldOr<std::string>(config, m.config_path, "hidden_act", "gelu");
  if (act != "gelu") {
    throw ConfigError(fmt::format("{}: field 'hidden_act' is '{}'; only 'gelu' (exact, erf) is "
                                  "implemented", m.config_path, act));
  }
  const auto positions =
      fieldOr<std::string>(config, m.config_path, "position_embedding_type", "absolute");
  if (positions != "absolute") {
    throw ConfigError(fmt::format("{}: field 'position_embedding_type' is '{}'; only "
                                  "'absolute' is implemented", m.config_path, positions));
  }

  std::int64_t max_len = m.max_positions;
  const std::string tokenizer_path = in_dir("tokenizer_config.json");
  if (fs::is_regular_file(tokenizer_path)) {
    const nlohmann::json tok = readJson(tokenizer_path);
    m.settings_paths.push_back(tokenizer_path);
    if (!fieldOr<bool>(tok, tokenizer_path, "do_lower_case", true)) {
      throw ConfigError(fmt::format("{}: field 'do_lower_case' is false; kgrec's WordPiece "
                                    "tokenizer is uncased only (docs/text.md)", tokenizer_path));
    }
    if (fieldOr<bool>(tok, tokenizer_path, "strip_accents", true) == false) {
      throw ConfigError(fmt::format("{}: field 'strip_accents' is false; kgrec's tokenizer "
                                    "always strips accents", tokenizer_path));
    }
    // Tokenizers without a limit write a huge sentinel here.
    const auto model_max = fieldOr<double>(tok, tokenizer_path, "model_max_length", 0.0);
    if (model_max >= 2 && model_max < static_cast<double>(max_len)) {
      max_len = static_cast<std::int64_t>(model_max);
    }
  }

  const std::string modules_path = in_dir("modules.json");
  if (fs::is_regular_file(modules_path)) {
    m.sentence_transformers = true;
    m.settings_paths.push_back(modules_path);
    const nlohmann::json modules = readJson(modules_path);
    if (!modules.is_array()) throw ConfigError(fmt::format("{}: expected a JSON array of modules", modules_path));
    std::string pooling_dir;
    for (const nlohmann::json& module : modules) {
      const auto type = field<std::string>(module, modules_path, "type");
      const auto path = fieldOr<std::string>(module, modules_path, "path", "");
      if (type == "sentence_transformers.models.Transformer") continue;
      if (type == "sentence_transformers.models.Pooling") {
        pooling_dir = path;
      } else if (type == "sentence_transformers.models.Normalize") {
        m.normalize = true;
      } else {
        throw ConfigError(fmt::format("{}: field 'type' '{}' is a module kgrec does not "
                                      "implement (Transformer, Pooling, Normalize only)",
                                      modules_path, type));
      }
    }
    if (!pooling_dir.empty()) {
      const std::string pooling_path = in_dir(pooling_dir + "/config.json");
      const nlohmann::json pooling = readJson(pooling_path);
      m.settings_paths.push_back(pooling_path);
      const bool cls = fieldOr<bool>(pooling, pooling_path, "pooling_mode_cls_token", false);
      const bool mean = fieldOr<bool>(pooling, pooling_path, "pooling_mode_mean_tokens", false);
      const bool other =
          fieldOr<bool>(pooling, pooling_path, "pooling_mode_max_tokens", false) ||
          fieldOr<bool>(pooling, pooling_path, "pooling_mode_mean_sqrt_len_tokens", false) ||
          fieldOr<bool>(pooling, pooling_path, "pooling_mode_weightedmean_tokens", false) ||
          fieldOr<bool>(pooling, pooling_path, "pooling_mode_lasttoken", false);
      if (other || cls == mean) {
        throw ConfigError(fmt::format("{}: exactly one of 'pooling_mode_mean_tokens' and "
                                      "'pooling_mode_cls_token' must be true (other pooling "
                                      "modes are not implemented)", pooling_path));
      }
      m.pooling = cls ? Pooling::kCls : Pooling::kMean;
      const auto width = fieldOr<std::int64_t>(pooling, pooling_path, "word_embedding_dimension", m.hidden);
      if (width != m.hidden) {
        throw ConfigError(fmt::format("{}: field 'word_embedding_dimension' is {} but {} has "
                                      "hidden_size {}", pooling_path, width, m.config_path, m.hidden));
      }
    }
    const std::string sbert_path = in_dir("sentence_bert_config.json");
    if (fs::is_regular_file(sbert_path)) {
      m.settings_paths.push_back(sbert_path);
      const auto seq = fieldOr<std::int64_t>(readJson(sbert_path), sbert_path, "max_seq_length", 0);
      if (seq > 0) max_len = std::min(seq, max_len);
    }
  }
  m.max_seq_length = max_len;
  return m;
}

}  // namespace kgrec
