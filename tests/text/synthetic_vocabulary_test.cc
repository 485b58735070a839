// The demo's vocabulary must cover every synthetic text: no text may fall back to [UNK].
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include <fstream>

#include "engine/graph/synthetic.h"
#include "models/text/wordpiece_tokenizer.h"

namespace kgrec {
namespace {

TEST(SyntheticVocabulary, CoversEverySyntheticText) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("kgrec_synthetic_vocab_" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(path);
    for (const std::string& token : syntheticWordPieceVocabulary()) out << token << "\n";
  }
  const WordPieceTokenizer tokenizer = WordPieceTokenizer::fromVocabFile(path.string());
  std::filesystem::remove(path);
  SyntheticOptions options;
  options.kg_relations = 10;  // more relations than named ones: "relation_<k>" texts too
  const Dataset d = generateSynthetic(options);
  std::int64_t checked = 0;
  for (const auto* texts : {&d.item_texts, &d.entity_texts}) {
    for (const std::string& text : *texts) {
      for (std::int32_t id : tokenizer.encode(text, WordPieceTokenizer::kNoMaxLen).ids) {
        ASSERT_NE(id, tokenizer.unkId()) << "[UNK] in \"" << text << "\"";
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, d.nodes.num_items + d.nodes.num_entities);
}

}  // namespace
}  // namespace kgrec
