// The standard uncased BERT vocabulary against reference tokenizations from an independent
// implementation (../shared/models, see its README): every id must match. Skipped where the
// shared folder is absent.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "models/text/wordpiece_tokenizer.h"

namespace kgrec {
namespace {

const std::string kModelsDir = std::string(KGREC_SHARED_DIR) + "/models";

// The README calls the file JSON lines; it is also written as one JSON array spread over one
// object a line. Both read the same here.
std::vector<nlohmann::json> readReferences(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  const std::string text = content.str();
  std::vector<nlohmann::json> references;
  if (text.find_first_not_of(" \t\r\n") != std::string::npos &&
      text[text.find_first_not_of(" \t\r\n")] == '[') {
    for (const nlohmann::json& r : nlohmann::json::parse(text)) references.push_back(r);
  } else {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty()) references.push_back(nlohmann::json::parse(line));
    }
  }
  return references;
}

TEST(TokenizerReferenceTest, ReproducesEveryReferenceId) {
  const std::string vocab = kModelsDir + "/vocab-bert-uncased.txt";
  const std::string reference = kModelsDir + "/tokenizer-reference.jsonl";
  if (!std::filesystem::exists(vocab) || !std::filesystem::exists(reference)) {
    GTEST_SKIP() << "no BERT vocabulary and references in " << kModelsDir;
  }
  const WordPieceTokenizer t = WordPieceTokenizer::fromVocabFile(vocab);
  ASSERT_EQ(t.vocabSize(), 30522);
  EXPECT_EQ(t.padId(), 0);
  EXPECT_EQ(t.unkId(), 100);
  EXPECT_EQ(t.clsId(), 101);
  EXPECT_EQ(t.sepId(), 102);

  const std::vector<nlohmann::json> references = readReferences(reference);
  ASSERT_FALSE(references.empty());
  int full = 0;
  int truncated = 0;
  for (const nlohmann::json& r : references) {
    const std::string text = r.at("text").get<std::string>();
    const auto expected = r.at("input_ids").get<std::vector<std::int32_t>>();
    const std::vector<std::int32_t> ids = t.encode(text, WordPieceTokenizer::kNoMaxLen).ids;
    if (!r.contains("max_length")) {
      EXPECT_EQ(ids, expected) << text;
      if (r.contains("tokens")) {
        auto tokens = r.at("tokens").get<std::vector<std::string>>();
        ASSERT_GE(tokens.size(), 2u);
        tokens = std::vector<std::string>(tokens.begin() + 1, tokens.end() - 1);  // [CLS] [SEP]
        EXPECT_EQ(t.tokenize(text), tokens) << text;
      }
      full += ids == expected;
      continue;
    }
    // The reference implementation (Hugging Face's JavaScript edition) truncates by cutting the
    // finished [CLS] ... [SEP] sequence, dropping [SEP]; BERT and Hugging Face's Python
    // tokenizers cut the wordpieces instead so that [SEP] stays last, as kgrec does. So: every
    // reference id is the start of the full encoding, and kgrec's truncated encoding equals the
    // reference with its last id replaced by [SEP].
    const auto max_len = r.at("max_length").get<std::int64_t>();
    ASSERT_EQ(static_cast<std::int64_t>(expected.size()), max_len) << text;
    ASSERT_GE(ids.size(), expected.size()) << text;
    EXPECT_EQ(std::vector<std::int32_t>(ids.begin(), ids.begin() + max_len), expected) << text;
    std::vector<std::int32_t> with_sep = expected;
    with_sep.back() = t.sepId();
    EXPECT_EQ(t.encode(text, max_len).ids, with_sep) << text;
    truncated += std::vector<std::int32_t>(ids.begin(), ids.begin() + max_len) == expected;
  }
  std::cout << "reference tokenizations reproduced: " << full << " full + " << truncated
            << " truncated of " << references.size() << "\n";
  RecordProperty("reproduced", full + truncated);
  RecordProperty("references", static_cast<int>(references.size()));
  EXPECT_EQ(full + truncated, static_cast<int>(references.size()));
}

}  // namespace
}  // namespace kgrec
