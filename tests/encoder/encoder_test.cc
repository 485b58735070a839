// The frozen text encoder: the seeded test encoder, pooling, the embed step's file contract,
// its cache, its errors, and the rows reaching the partition shards.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <torch/csrc/jit/serialization/import.h>

#include "engine/common/error.h"
#include "engine/graph/synthetic.h"
#include "engine/store/dataset_io.h"
#include "engine/store/hdf5_file.h"
#include "models/encoder/seeded_encoder.h"
#include "models/encoder/text_embedder.h"
#include "partition/partitioner.h"
#include "partition/shard.h"
#include "tests/store/temp_dir.h"

namespace kgrec {
namespace {

std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class EncoderTest : public TempDirTest {
 protected:
  // Special tokens, single letters and their continuations: every word tokenises into
  // pieces, so different texts give different ids.
  std::vector<std::string> vocabTokens() const {
    std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", ":", "-"};
    for (char c = 'a'; c <= 'z'; ++c) tokens.push_back(std::string(1, c));
    for (char c = '0'; c <= '9'; ++c) tokens.push_back(std::string(1, c));
    for (char c = 'a'; c <= 'z'; ++c) tokens.push_back("##" + std::string(1, c));
    for (char c = '0'; c <= '9'; ++c) tokens.push_back("##" + std::string(1, c));
    return tokens;
  }

  std::string writeVocab(const std::string& name, std::vector<std::string> tokens) const {
    std::ofstream out(path(name));
    for (const std::string& t : tokens) out << t << '\n';
    return path(name);
  }

  EmbedOptions options(std::uint64_t seed = 1) const {
    EmbedOptions o;
    o.vocab_path = writeVocab("vocab.txt", vocabTokens());
    o.encoder_path = path(fmt::format("encoder-{}.pt", seed));
    SeededEncoderConfig c;
    c.vocab_size = static_cast<std::int64_t>(vocabTokens().size());
    c.hidden = 32;
    c.intermediate = 64;
    c.seed = seed;
    writeSeededEncoder(c, o.encoder_path);
    o.max_len = 32;
    o.batch = 16;
    return o;
  }

  // A small synthetic dataset with the first item's and the last entity's texts removed.
  std::string writeData() const {
    SyntheticOptions s;
    s.users = 80;
    s.items = 50;
    s.entities = 20;
    s.communities = 4;
    Dataset d = generateSynthetic(s);
    d.item_texts.front().clear();
    d.entity_texts.back().clear();
    writeDataset(d, path("data.h5"), true);
    return path("data.h5");
  }
};

TEST_F(EncoderTest, SeededEncoderIsReproducibleAndLoads) {
  const EmbedOptions o = options();
  SeededEncoderConfig c;
  c.vocab_size = static_cast<std::int64_t>(vocabTokens().size());
  c.hidden = 32;
  c.intermediate = 64;
  writeSeededEncoder(c, path("again.pt"));
  torch::jit::Module a = torch::jit::load(o.encoder_path);
  torch::jit::Module b = torch::jit::load(path("again.pt"));
  EXPECT_TRUE(a.attr(kSeededEncoderMarker).toBool());
  const torch::Tensor ids = torch::tensor({2, 10, 20, 3}, torch::kInt64).view({1, 4});
  const torch::Tensor mask = torch::ones({1, 4}, torch::kInt64);
  const torch::Tensor ya = a.forward({ids, mask}).toTensor();
  const torch::Tensor yb = b.forward({ids, mask}).toTensor();
  EXPECT_EQ(ya.sizes(), (std::vector<std::int64_t>{1, 4, 32}));
  EXPECT_TRUE(torch::equal(ya, yb));
  c.seed = 2;
  const torch::Tensor yc = buildSeededEncoder(c).forward({ids, mask}).toTensor();
  EXPECT_FALSE(torch::allclose(ya, yc));
}

TEST_F(EncoderTest, EmbeddingsAreUnitNormZeroForEmptyAndPaddingInvariant) {
  const TextEncoder encoder(options());
  for (const torch::Tensor& p : encoder.parameters()) EXPECT_FALSE(p.requires_grad());
  EXPECT_TRUE(encoder.isSeededTestEncoder());
  const std::vector<std::string> texts = {"red apple", "", "a much longer text about green pears",
                                          "red apple"};
  const torch::Tensor e = encoder.embed(texts);
  ASSERT_EQ(e.sizes(), (std::vector<std::int64_t>{4, encoder.dim()}));
  EXPECT_FALSE(e.requires_grad());
  EXPECT_NEAR(e[0].norm().item<float>(), 1.0f, 1e-5);
  EXPECT_NEAR(e[2].norm().item<float>(), 1.0f, 1e-5);
  EXPECT_EQ(e[1].abs().sum().item<float>(), 0.0f);
  EXPECT_FALSE(torch::allclose(e[0], e[2]));
  // "red apple" was padded to the long text's length in its batch; alone it is not padded.
  const torch::Tensor alone = encoder.embed({"red apple"});
  EXPECT_TRUE(torch::allclose(alone[0], e[0], 0.0, 1e-5));
  EXPECT_TRUE(torch::allclose(e[3], e[0], 0.0, 1e-5));
}

TEST_F(EncoderTest, EmbedDatasetWritesFeaturesAndCaches) {
  const std::string data = writeData();
  const EmbedOptions o = options();
  const EmbedReport r = embedDataset(data, o);
  EXPECT_FALSE(r.cached);
  EXPECT_EQ(r.texts, 70);
  EXPECT_EQ(r.empty_texts, 2);
  EXPECT_EQ(r.dim, 32);
  EXPECT_NE(r.encoder_name.find("seeded test encoder"), std::string::npos);
  {
    const Hdf5File f = Hdf5File::openRead(data);
    const FloatMatrix m = f.readMatrix("/features/lm");
    EXPECT_EQ(m.rows, 70);
    EXPECT_EQ(m.cols, 32);
    for (std::int64_t row : {0, 69}) {  // the first item and the last entity have no text
      for (std::int64_t c = 0; c < m.cols; ++c) EXPECT_EQ(m.data[row * m.cols + c], 0.0f);
    }
    EXPECT_EQ(f.readIntAttribute("/features", "lm_max_len"), 32);
    EXPECT_EQ(f.readIntAttribute("/features", "lm_dim"), 32);
    EXPECT_EQ(f.readIntAttribute("/features", "lm_seeded_test_encoder"), 1);
    EXPECT_EQ(f.readIntAttribute("/features", "lm_empty_texts"), 2);
    EXPECT_EQ(f.readStringAttribute("/features", "lm_encoder_name"), r.encoder_name);
    EXPECT_EQ(f.readStringAttribute("/metadata", "features.lm.encoder"), r.encoder_name);
  }
  readDataset(data);  // still a valid dataset

  const std::string before = readBytes(data);
  EXPECT_TRUE(embedDataset(data, o).cached);
  EXPECT_EQ(readBytes(data), before);

  // Same size, other order: another vocabulary, so the cache no longer applies.
  std::vector<std::string> tokens = vocabTokens();
  std::swap(tokens[10], tokens[11]);
  EmbedOptions swapped = o;
  swapped.vocab_path = writeVocab("vocab2.txt", tokens);
  EXPECT_FALSE(embedDataset(data, swapped).cached);
  // Another encoder (seed) also recomputes, and gives other features.
  const FloatMatrix first = Hdf5File::openRead(data).readMatrix("/features/lm");
  EXPECT_FALSE(embedDataset(data, options(2)).cached);
  EXPECT_NE(Hdf5File::openRead(data).readMatrix("/features/lm").data, first.data);
  EmbedOptions forced = options(2);
  forced.force = true;
  EXPECT_FALSE(embedDataset(data, forced).cached);
}

TEST_F(EncoderTest, BadEncodersFailNamingTheFileAndLeaveTheDatasetAlone) {
  const std::string data = writeData();
  const std::string before = readBytes(data);
  EmbedOptions o = options();
  const auto expectError = [&](const EmbedOptions& bad, const std::string& fragment) {
    try {
      embedDataset(data, bad);
      ADD_FAILURE() << "no error for " << bad.encoder_path;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad.encoder_path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
    EXPECT_EQ(readBytes(data), before);
  };

  EmbedOptions missing = o;
  missing.encoder_path = path("missing.pt");
  expectError(missing, "not found");

  EmbedOptions garbage = o;
  garbage.encoder_path = path("garbage.pt");
  std::ofstream(garbage.encoder_path) << "not a model";
  expectError(garbage, "not a TorchScript module");

  EmbedOptions wrong_inputs = o;
  wrong_inputs.encoder_path = path("one_input.pt");
  torch::jit::Module one("kgrec.OneInput");
  one.define("def forward(self, x):\n    return x\n");
  one.save(wrong_inputs.encoder_path);
  expectError(wrong_inputs, "forward(input_ids, attention_mask)");

  EmbedOptions wrong_output = o;
  wrong_output.encoder_path = path("flat.pt");
  torch::jit::Module flat("kgrec.Flat");
  flat.define("def forward(self, input_ids, attention_mask):\n    return input_ids.float()\n");
  flat.save(wrong_output.encoder_path);
  expectError(wrong_output, "shape");

  EmbedOptions small_table = o;
  small_table.encoder_path = path("small.pt");
  SeededEncoderConfig c;
  c.vocab_size = 10;
  writeSeededEncoder(c, small_table.encoder_path);
  expectError(small_table, "do not belong together");

  EmbedOptions short_positions = o;
  short_positions.encoder_path = path("short.pt");
  c.vocab_size = static_cast<std::int64_t>(vocabTokens().size());
  c.max_positions = 8;
  writeSeededEncoder(c, short_positions.encoder_path);
  expectError(short_positions, "position");

  EmbedOptions half_on_cpu = o;
  half_on_cpu.dtype = "fp16";
  EXPECT_THROW(embedDataset(data, half_on_cpu), ConfigError);
  EXPECT_EQ(readBytes(data), before);
}

TEST_F(EncoderTest, FeatureRowsReachThePartitionShards) {
  const std::string data = writeData();
  embedDataset(data, options());
  const Dataset d = readDataset(data);
  const FloatMatrix lm = Hdf5File::openRead(data).readMatrix("/features/lm");
  PartitionOptions p;
  p.parts = 2;
  partitionDataset(data, path("parts"), p);
  std::int64_t checked = 0;
  for (std::int32_t part = 0; part < 2; ++part) {
    const Shard s = readShard(path("parts") + "/" + shardFileName(part));
    ASSERT_EQ(s.lm.cols, lm.cols);
    for (std::int64_t local = 0; local < s.numLocal(); ++local) {
      const std::int64_t row = s.global_ids[local] - d.nodes.num_users;
      if (row < 0) continue;  // users have no text feature
      for (std::int64_t c = 0; c < lm.cols; ++c) {
        ASSERT_EQ(s.lm.data[local * lm.cols + c], lm.data[row * lm.cols + c]);
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 70);
}

}  // namespace
}  // namespace kgrec
