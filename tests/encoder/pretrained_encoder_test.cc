// The native pretrained encoder: the safetensors reader, the model folder's checks, a tiny
// BERT folder written here run end to end, and the installed all-MiniLM-L6-v2 against
// reference vectors made once by sentence-transformers (skipped without the model).

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include <nlohmann/json.hpp>

#include "engine/common/error.h"
#include "engine/graph/synthetic.h"
#include "engine/store/dataset_io.h"
#include "models/encoder/installed_model.h"
#include "models/encoder/pretrained_model_folder.h"
#include "models/encoder/safetensors_file.h"
#include "models/encoder/text_embedder.h"
#include "tests/store/temp_dir.h"

namespace kgrec {
namespace {

namespace fs = std::filesystem;

std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A safetensors file as the format describes it; tensors are stored in their own dtype.
void writeSafetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [name, tensor] : tensors) {
    const torch::Tensor t = tensor.contiguous();
    const char* dtype = t.scalar_type() == torch::kFloat16    ? "F16"
                        : t.scalar_type() == torch::kBFloat16 ? "BF16"
                                                              : "F32";
    const std::size_t bytes = static_cast<std::size_t>(t.numel() * t.element_size());
    header[name] = {{"dtype", dtype},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {data.size(), data.size() + bytes}}};
    data.append(static_cast<const char*>(t.data_ptr()), bytes);
  }
  const std::string json = header.dump();
  std::string size(8, '\0');
  for (int i = 0; i < 8; ++i) size[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
  writeText(path, size + json + data);
}

class PretrainedEncoderTest : public TempDirTest {
 protected:
  static constexpr std::int64_t kHidden = 16, kHeads = 4, kLayers = 2, kInter = 32, kPositions = 40;

  std::vector<std::string> vocab() const {
    std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]"};
    for (char c = 'a'; c <= 'z'; ++c) tokens.push_back(std::string(1, c));
    for (char c = 'a'; c <= 'z'; ++c) tokens.push_back("##" + std::string(1, c));
    return tokens;
  }

  nlohmann::json config() const {
    return {{"model_type", "bert"}, {"architectures", {"BertModel"}},
            {"vocab_size", static_cast<std::int64_t>(vocab().size())},
            {"hidden_size", kHidden}, {"num_hidden_layers", kLayers},
            {"num_attention_heads", kHeads}, {"intermediate_size", kInter},
            {"max_position_embeddings", kPositions}, {"type_vocab_size", 2},
            {"hidden_act", "gelu"}, {"layer_norm_eps", 1e-12}};
  }

  // Random weights with Hugging Face's BertModel names, in `dtype`.
  std::map<std::string, torch::Tensor> weights(torch::ScalarType dtype = torch::kFloat32) const {
    torch::manual_seed(3);
    std::map<std::string, torch::Tensor> w;
    const auto add = [&](const std::string& name, std::vector<std::int64_t> shape) {
      w[name] = (torch::randn(shape) * 0.2).to(dtype);
    };
    const auto V = static_cast<std::int64_t>(vocab().size());
    add("embeddings.word_embeddings.weight", {V, kHidden});
    add("embeddings.position_embeddings.weight", {kPositions, kHidden});
    add("embeddings.token_type_embeddings.weight", {2, kHidden});
    add("embeddings.LayerNorm.weight", {kHidden});
    add("embeddings.LayerNorm.bias", {kHidden});
    for (std::int64_t i = 0; i < kLayers; ++i) {
      const std::string p = "encoder.layer." + std::to_string(i) + ".";
      for (const char* m : {"attention.self.query", "attention.self.key", "attention.self.value",
                            "attention.output.dense"}) {
        add(p + m + ".weight", {kHidden, kHidden});
        add(p + m + ".bias", {kHidden});
      }
      add(p + "intermediate.dense.weight", {kInter, kHidden});
      add(p + "intermediate.dense.bias", {kInter});
      add(p + "output.dense.weight", {kHidden, kInter});
      add(p + "output.dense.bias", {kHidden});
      for (const char* m : {"attention.output.LayerNorm", "output.LayerNorm"}) {
        add(p + m + ".weight", {kHidden});
        add(p + m + ".bias", {kHidden});
      }
    }
    return w;
  }

  // A sentence-transformers folder: mean pooling, normalised, max_seq_length 24.
  std::string writeFolder(const std::string& name, const nlohmann::json& cfg,
                          const std::map<std::string, torch::Tensor>& w) const {
    const std::string dir = path(name);
    fs::create_directories(dir + "/1_Pooling");
    writeText(dir + "/config.json", cfg.dump());
    std::string v;
    for (const std::string& t : vocab()) v += t + "\n";
    writeText(dir + "/vocab.txt", v);
    writeText(dir + "/tokenizer_config.json", R"({"do_lower_case": true, "model_max_length": 512})");
    writeText(dir + "/modules.json", R"([
      {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
      {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
      {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])");
    writeText(dir + "/1_Pooling/config.json",
              fmt::format(R"({{"word_embedding_dimension": {}, "pooling_mode_mean_tokens": true}})", kHidden));
    writeText(dir + "/sentence_bert_config.json", R"({"max_seq_length": 24})");
    writeSafetensors(dir + "/model.safetensors", w);
    return dir;
  }

  std::string writeFolder(const std::string& name = "model") const {
    return writeFolder(name, config(), weights());
  }

  EmbedOptions options(const std::string& dir) const {
    EmbedOptions o;
    o.model_dir = dir;
    o.batch = 3;
    return o;
  }

  // The ConfigError message of constructing a TextEncoder from `dir`, or "" without one.
  std::string configError(const std::string& dir) const {
    try {
      TextEncoder encoder(options(dir));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(PretrainedEncoderTest, SafetensorsReadsF32F16AndBf16AsFloat32) {
  const torch::Tensor values = torch::tensor({0.5f, -1.25f, 3.0f, 0.0f, 7.5f, -2.0f}).view({2, 3});
  writeSafetensors(path("w.safetensors"), {{"a", values},
                                           {"b", values.to(torch::kFloat16)},
                                           {"c", values.to(torch::kBFloat16)}});
  const SafetensorsFile f(path("w.safetensors"));
  EXPECT_EQ(f.names(), (std::vector<std::string>{"a", "b", "c"}));
  for (const char* name : {"a", "b", "c"}) {
    EXPECT_EQ(f.shape(name), (std::vector<std::int64_t>{2, 3}));
    EXPECT_TRUE(torch::equal(f.float32(name), values)) << name;  // all exactly representable
  }
  EXPECT_THROW(f.float32("missing"), InputError);
}

TEST_F(PretrainedEncoderTest, SafetensorsRefusesBrokenFilesNamingThem) {
  writeSafetensors(path("ok.safetensors"), {{"a", torch::ones({4})}});
  const std::string good = readBytes(path("ok.safetensors"));
  writeText(path("short.safetensors"), good.substr(0, good.size() - 4));  // data cut off
  writeText(path("tiny.safetensors"), "abc");
  std::string garbage = good;
  garbage[8] = '#';  // the header is no longer JSON
  writeText(path("garbage.safetensors"), garbage);
  for (const char* name : {"short.safetensors", "tiny.safetensors", "garbage.safetensors"}) {
    try {
      SafetensorsFile f(path(name));
      ADD_FAILURE() << name << " was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
}

TEST_F(PretrainedEncoderTest, FolderSettingsAreRead) {
  const PretrainedModelFolder f = readPretrainedModelFolder(writeFolder());
  EXPECT_EQ(f.hidden, kHidden);
  EXPECT_EQ(f.heads, kHeads);
  EXPECT_EQ(f.layers, kLayers);
  EXPECT_EQ(f.max_seq_length, 24);  // sentence_bert_config.json, below model_max_length
  EXPECT_EQ(f.pooling, Pooling::kMean);
  EXPECT_TRUE(f.normalize);
}

TEST_F(PretrainedEncoderTest, InconsistentFoldersFailNamingFileAndField) {
  nlohmann::json vocab_mismatch = config();
  vocab_mismatch["vocab_size"] = 99;
  nlohmann::json heads = config();
  heads["num_attention_heads"] = 3;
  nlohmann::json architecture = config();
  architecture["model_type"] = "roberta";
  nlohmann::json missing = config();
  missing.erase("hidden_size");
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {vocab_mismatch, "'vocab_size'"}, {heads, "'num_attention_heads'"},
      {architecture, "'model_type'"}, {missing, "'hidden_size'"}};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string message = configError(writeFolder("bad" + std::to_string(i), cases[i].first, weights()));
    EXPECT_NE(message.find("config.json"), std::string::npos) << message;
    EXPECT_NE(message.find(cases[i].second), std::string::npos) << message;
  }
  std::map<std::string, torch::Tensor> short_table = weights();
  short_table["embeddings.word_embeddings.weight"] = torch::zeros({10, kHidden});
  const std::string shape_message = configError(writeFolder("shape", config(), short_table));
  EXPECT_NE(shape_message.find("model.safetensors"), std::string::npos) << shape_message;
  EXPECT_NE(shape_message.find("embeddings.word_embeddings.weight"), std::string::npos) << shape_message;

  const std::string dir = writeFolder("pickle");
  fs::rename(dir + "/model.safetensors", dir + "/pytorch_model.bin");
  EXPECT_NE(configError(dir).find("pytorch_model.bin"), std::string::npos);
  writeText(writeFolder("cased") + "/tokenizer_config.json", R"({"do_lower_case": false})");
  EXPECT_NE(configError(path("cased")).find("'do_lower_case'"), std::string::npos);
}

TEST_F(PretrainedEncoderTest, VectorsAreUnitNormBatchInvariantAndPrecisionTolerant) {
  const std::string dir = writeFolder();
  const std::vector<std::string> texts = {"a b c", "", "hello world", "x", "the quick brown fox jumps"};
  const TextEncoder encoder(options(dir));
  EXPECT_EQ(encoder.maxLen(), 24);
  EXPECT_EQ(encoder.dim(), kHidden);
  EXPECT_EQ(encoder.parameters().size(), static_cast<std::size_t>(5 + 12 * kLayers));
  for (const torch::Tensor& p : encoder.parameters()) EXPECT_FALSE(p.requires_grad());
  const torch::Tensor v = encoder.embed(texts);
  ASSERT_EQ(v.sizes(), (std::vector<std::int64_t>{5, kHidden}));
  EXPECT_TRUE(torch::equal(v[1], torch::zeros({kHidden})));  // no text: zero row
  for (std::int64_t i : {0, 2, 3, 4}) EXPECT_NEAR(v[i].norm().item<double>(), 1.0, 1e-5);
  // A text's vector does not depend on its batch (padding, packing) ...
  const torch::Tensor alone = encoder.embed({texts[3]});
  EXPECT_LT((alone[0] - v[3]).abs().max().item<double>(), 1e-5);
  // ... and F16 weights give nearly the same vectors as F32 (they are read as float32).
  std::map<std::string, torch::Tensor> half = weights(torch::kFloat16);
  const TextEncoder f16(options(writeFolder("half", config(), half)));
  std::map<std::string, torch::Tensor> rounded;
  for (const auto& [name, t] : half) rounded[name] = t.to(torch::kFloat32);
  const TextEncoder f32(options(writeFolder("rounded", config(), rounded)));
  EXPECT_TRUE(torch::equal(f16.embed(texts), f32.embed(texts)));
}

TEST_F(PretrainedEncoderTest, PackedAttentionAndThreadsGiveTheSameVectors) {
  // One head of 16: the packed CPU attention (the 4 heads of 4 above take the padded one).
  nlohmann::json one_head = config();
  one_head["num_attention_heads"] = 1;
  const std::vector<std::string> texts = {"a b c", "hello world", "x", "the quick brown fox jumps",
                                          "", "over the lazy dog", "a", "b c", "jumps over",
                                          "hello", "the fox and the dog", "world"};
  const TextEncoder packed(options(writeFolder("one-head", one_head, weights())));
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const torch::Tensor serial = packed.embed(texts);
  // Two threads: the batches (of 3) run side by side, each computed exactly as alone.
  at::set_num_threads(2);
  const torch::Tensor parallel = packed.embed(texts);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(serial, parallel));
  EXPECT_TRUE(torch::equal(serial[4], torch::zeros({kHidden})));
  // The packed float32 attention against the padded one (float64 takes that path): the same
  // token states up to rounding, zero at padding.
  BertEncoder bert = loadBertEncoder(readPretrainedModelFolder(path("one-head")));
  const torch::Tensor ids = torch::tensor({2, 7, 9, 3, 2, 5, 3, 0, 2, 3, 0, 0}, torch::kInt64).view({3, 4});
  const torch::Tensor mask = torch::tensor({1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0}, torch::kInt64).view({3, 4});
  torch::NoGradGuard no_grad;
  const torch::Tensor states32 = bert->forward(ids, mask);
  bert->to(torch::kFloat64);
  const torch::Tensor states64 = bert->forward(ids, mask);
  EXPECT_LT((states32.to(torch::kFloat64) - states64).abs().max().item<double>(), 1e-5);
  EXPECT_TRUE(torch::equal(states32[2].narrow(0, 2, 2), torch::zeros({2, kHidden})));
}

TEST_F(PretrainedEncoderTest, EmbedDatasetWithABadFolderLeavesTheDatasetAlone) {
  SyntheticOptions s;
  s.users = 30;
  s.items = 20;
  s.entities = 10;
  writeDataset(generateSynthetic(s), path("data.h5"), true);
  const std::string before = readBytes(path("data.h5"));
  nlohmann::json heads = config();
  heads["num_attention_heads"] = 3;
  EXPECT_THROW(embedDataset(path("data.h5"), options(writeFolder("bad", heads, weights()))), ConfigError);
  EXPECT_EQ(readBytes(path("data.h5")), before);
  const EmbedReport r = embedDataset(path("data.h5"), options(writeFolder()));
  EXPECT_EQ(r.dim, kHidden);
  EXPECT_NE(r.encoder_name.find("pretrained"), std::string::npos) << r.encoder_name;
  EXPECT_TRUE(embedDataset(path("data.h5"), options(path("model"))).cached);
}

// all-MiniLM-L6-v2 as installed by scripts/install_minilm.sh against vectors that
// sentence-transformers made from the same folder (tests/encoder/minilm_reference.json,
// written by tests/encoder/make_minilm_reference.py).
TEST(PretrainedMiniLm, MatchesSentenceTransformersReferenceVectors) {
  const std::string dir = installedMiniLmDir(KGREC_SOURCE_DIR);
  if (dir.empty()) {
    GTEST_SKIP() << "all-MiniLM-L6-v2 is not installed (scripts/install_minilm.sh, or set "
                 << kMiniLmDirVariable << ")";
  }
  std::ifstream in(std::string(KGREC_SOURCE_DIR) + "/tests/encoder/minilm_reference.json");
  const nlohmann::json reference = nlohmann::json::parse(in);
  const auto texts = reference.at("texts").get<std::vector<std::string>>();
  const auto expected = reference.at("vectors").get<std::vector<std::vector<float>>>();
  EmbedOptions o;
  o.model_dir = dir;
  const torch::Tensor v = TextEncoder(o).embed(texts);
  ASSERT_EQ(v.size(0), static_cast<std::int64_t>(expected.size()));
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const torch::Tensor e = torch::tensor(expected[i]);
    const double cosine = torch::dot(v[i], e).item<double>() / (v[i].norm() * e.norm()).item<double>();
    EXPECT_GE(cosine, 0.9999) << texts[i];
    EXPECT_LT((v[i] - e).abs().max().item<double>(), 1e-4) << texts[i];
  }
}

}  // namespace
}  // namespace kgrec
