// Hand-made cases on a tiny vocabulary written by the test: each BERT rule on its own, the
// encoding (truncation, padding), bad vocabularies and the `kgrec tokenize` line protocol.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "models/text/wordpiece_tokenizer.h"
#include "tests/store/temp_dir.h"

namespace kgrec {
namespace {

using Tokens = std::vector<std::string>;

// Ids are line numbers: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 hello=4 world=5 ...
const Tokens kTinyVocab = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "!",   ",",    "'",    "s",
    "it",    "un",    "##aff", "##able", "a",    "##a",   "北",  "京",   "cafe", "οδος",
    "i",     "ᄒ",     "##ᅡ",   "##ᆫ",    "-",    "—",     "€"};

class TokenizerTest : public TempDirTest {
 protected:
  std::string writeFile(const std::string& name, const std::string& content) const {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string writeVocab(const Tokens& tokens) const {
    std::string content;
    for (const std::string& t : tokens) content += t + "\n";
    return writeFile("vocab.txt", content);
  }
  WordPieceTokenizer tiny() const { return WordPieceTokenizer::fromVocabFile(writeVocab(kTinyVocab)); }

  // The InputError that loading `content` as a vocabulary throws.
  InputError vocabError(const std::string& content) const {
    const std::string path = writeFile("bad.txt", content);
    try {
      WordPieceTokenizer::fromVocabFile(path);
    } catch (const InputError& e) {
      EXPECT_EQ(e.path(), path);
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      return e;
    }
    ADD_FAILURE() << "no InputError for vocabulary:\n" << content;
    return InputError(path, "none");
  }
};

TEST_F(TokenizerTest, VocabularyAndSpecialIds) {
  const WordPieceTokenizer t = tiny();
  EXPECT_EQ(t.vocabSize(), static_cast<std::int64_t>(kTinyVocab.size()));
  EXPECT_EQ(t.padId(), 0);
  EXPECT_EQ(t.unkId(), 1);
  EXPECT_EQ(t.clsId(), 2);
  EXPECT_EQ(t.sepId(), 3);
  EXPECT_EQ(t.token(4), "hello");
}

TEST_F(TokenizerTest, LowerCasesAndStripsAccents) {
  const WordPieceTokenizer t = tiny();
  EXPECT_EQ(t.tokenize("Héllo WORLD"), (Tokens{"hello", "world"}));
  EXPECT_EQ(t.tokenize("CAFÉ Café cafe\u0301"), (Tokens{"cafe", "cafe", "cafe"}));
  // Python's str.lower(): final sigma in context, and İ -> i + U+0307 whose mark is stripped.
  EXPECT_EQ(t.tokenize("ΟΔΟΣ İ"), (Tokens{"οδος", "i"}));
  // NFD decomposes Hangul syllables into jamo (letters, not marks: they stay).
  EXPECT_EQ(t.tokenize("한"), (Tokens{"ᄒ", "##ᅡ", "##ᆫ"}));
}

TEST_F(TokenizerTest, SplitsOnPunctuationNotSymbols) {
  const WordPieceTokenizer t = tiny();
  EXPECT_EQ(t.tokenize("hello,world!!"), (Tokens{"hello", ",", "world", "!", "!"}));
  EXPECT_EQ(t.tokenize("it's"), (Tokens{"it", "'", "s"}));
  EXPECT_EQ(t.tokenize("hello—world-it"), (Tokens{"hello", "—", "world", "-", "it"}));
  // € is a currency symbol (Sc), not punctuation: it stays inside the word.
  EXPECT_EQ(t.tokenize("€ hello€"), (Tokens{"€", "[UNK]"}));
}

TEST_F(TokenizerTest, SplitsCjkIdeographsOneByOne) {
  const WordPieceTokenizer t = tiny();
  EXPECT_EQ(t.tokenize("北京"), (Tokens{"北", "京"}));
  EXPECT_EQ(t.tokenize("hello北京world"), (Tokens{"hello", "北", "京", "world"}));
}

TEST_F(TokenizerTest, GreedyLongestMatchWithContinuations) {
  const WordPieceTokenizer t = tiny();
  EXPECT_EQ(t.tokenize("unaffable"), (Tokens{"un", "##aff", "##able"}));
  EXPECT_EQ(t.tokenize("aaa"), (Tokens{"a", "##a", "##a"}));
}

TEST_F(TokenizerTest, UnknownAndTooLongWordsAreOneUnk) {
  const WordPieceTokenizer t = tiny();
  EXPECT_EQ(t.tokenize("xyz hello"), (Tokens{"[UNK]", "hello"}));
  // A word that splits only partly is [UNK] as a whole, not "un ##aff [UNK]".
  EXPECT_EQ(t.tokenize("unaffx"), (Tokens{"[UNK]"}));
  EXPECT_EQ(t.tokenize("🎬"), (Tokens{"[UNK]"}));
  const std::string longest(WordPieceTokenizer::kMaxCharsPerWord, 'a');
  EXPECT_EQ(t.tokenize(longest).size(), WordPieceTokenizer::kMaxCharsPerWord);
  EXPECT_EQ(t.tokenize(longest + "a"), (Tokens{"[UNK]"}));
  // The limit counts code points after accent stripping, not bytes.
  std::string accented;
  for (std::size_t k = 0; k < WordPieceTokenizer::kMaxCharsPerWord; ++k) accented += "á";
  EXPECT_EQ(t.tokenize(accented).size(), WordPieceTokenizer::kMaxCharsPerWord);
}

TEST_F(TokenizerTest, CleansControlCharactersAndWhitespace) {
  const WordPieceTokenizer t = tiny();
  // Controls, format characters (zero-width space), NUL and U+FFFD vanish inside the word.
  EXPECT_EQ(t.tokenize(std::string("hel\x01lo wor\u200bld i\xef\xbf\xbd") + '\0' + "t"),
            (Tokens{"hello", "world", "it"}));
  // Tab, newline, no-break space (Zs), ideographic space and line separator all split.
  EXPECT_EQ(t.tokenize("hello\tworld\nit\u00a0s\u3000a\u2028a"),
            (Tokens{"hello", "world", "it", "s", "a", "a"}));
  // Ill-formed UTF-8 counts as U+FFFD and is removed the same way.
  EXPECT_EQ(t.tokenize("hel\xfflo"), (Tokens{"hello"}));
  EXPECT_TRUE(t.tokenize(" \t\r\n").empty());
}

TEST_F(TokenizerTest, EncodeAddsSpecialTokens) {
  const WordPieceTokenizer t = tiny();
  const Encoding e = t.encode("Hello, world!", WordPieceTokenizer::kNoMaxLen);
  EXPECT_EQ(e.ids, (std::vector<std::int32_t>{2, 4, 7, 5, 6, 3}));
  EXPECT_EQ(e.attention_mask, std::vector<std::uint8_t>(6, 1));
  EXPECT_EQ(t.encode("", WordPieceTokenizer::kNoMaxLen).ids, (std::vector<std::int32_t>{2, 3}));
}

TEST_F(TokenizerTest, TruncationKeepsSepLast) {
  const WordPieceTokenizer t = tiny();
  EXPECT_EQ(t.encode("hello world hello world", 4).ids, (std::vector<std::int32_t>{2, 4, 5, 3}));
  // The cut may fall inside a word's wordpieces.
  EXPECT_EQ(t.encode("unaffable", 4).ids, (std::vector<std::int32_t>{2, 11, 12, 3}));
  EXPECT_EQ(t.encode("hello world", 2).ids, (std::vector<std::int32_t>{2, 3}));
  // Short enough: untouched, and no padding unless asked.
  EXPECT_EQ(t.encode("hello", 8).ids, (std::vector<std::int32_t>{2, 4, 3}));
}

TEST_F(TokenizerTest, PaddingFillsToMaxLenWithMask) {
  const WordPieceTokenizer t = tiny();
  const Encoding e = t.encode("hello world", 6, Padding::kMaxLen);
  EXPECT_EQ(e.ids, (std::vector<std::int32_t>{2, 4, 5, 3, 0, 0}));
  EXPECT_EQ(e.attention_mask, (std::vector<std::uint8_t>{1, 1, 1, 1, 0, 0}));
  const Encoding full = t.encode("hello world hello world", 4, Padding::kMaxLen);
  EXPECT_EQ(full.ids, (std::vector<std::int32_t>{2, 4, 5, 3}));
  EXPECT_EQ(full.attention_mask, std::vector<std::uint8_t>(4, 1));
}

TEST_F(TokenizerTest, BatchEqualsOneByOne) {
  const WordPieceTokenizer t = tiny();
  const std::vector<std::string> texts = {"hello", "unaffable world!", "", "北京 it's"};
  const std::vector<Encoding> batch = t.encodeBatch(texts, 5, Padding::kMaxLen);
  ASSERT_EQ(batch.size(), texts.size());
  for (std::size_t k = 0; k < texts.size(); ++k) {
    const Encoding one = t.encode(texts[k], 5, Padding::kMaxLen);
    EXPECT_EQ(batch[k].ids, one.ids) << texts[k];
    EXPECT_EQ(batch[k].attention_mask, one.attention_mask) << texts[k];
  }
}

TEST_F(TokenizerTest, RejectsBadMaxLen) {
  const WordPieceTokenizer t = tiny();
  EXPECT_THROW(t.encode("hello", 1), ConfigError);
  EXPECT_THROW(t.encode("hello", -3), ConfigError);
  EXPECT_THROW(t.encode("hello", WordPieceTokenizer::kNoMaxLen, Padding::kMaxLen), ConfigError);
  EXPECT_THROW(t.encodeBatch({}, 1), ConfigError);
}

TEST_F(TokenizerTest, BadVocabulariesNameFileAndLine) {
  EXPECT_EQ(vocabError("[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n").line(), 3);
  const InputError duplicate = vocabError("[PAD]\n[UNK]\nhello\n[CLS]\nhello\n[SEP]\n");
  EXPECT_EQ(duplicate.line(), 5);
  EXPECT_NE(std::string(duplicate.what()).find("line 3"), std::string::npos) << duplicate.what();
  EXPECT_EQ(vocabError("[PAD]\n[UNK]\nh\xe9llo\n[CLS]\n[SEP]\n").line(), 3);
  const InputError no_unk = vocabError("[PAD]\n[CLS]\n[SEP]\nhello\n");
  EXPECT_NE(std::string(no_unk.what()).find("[UNK]"), std::string::npos) << no_unk.what();
  for (const char* missing : {"[PAD]", "[CLS]", "[SEP]"}) {
    std::string content;
    for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]"}) {
      if (std::string(t) != missing) content += std::string(t) + "\n";
    }
    const InputError e = vocabError(content);
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  vocabError("");  // empty file
  EXPECT_THROW(WordPieceTokenizer::fromVocabFile((dir_ / "absent.txt").string()), InputError);
}

TEST_F(TokenizerTest, VocabularyWithCrlfLineEnds) {
  const std::string path = writeFile("crlf.txt", "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello\r\n");
  const WordPieceTokenizer t = WordPieceTokenizer::fromVocabFile(path);
  EXPECT_EQ(t.tokenize("Hello"), (Tokens{"hello"}));
}

TEST_F(TokenizerTest, TokenizeLinesPrintsOneLineOfIdsPerText) {
  const WordPieceTokenizer t = tiny();
  std::istringstream in("Hello, world!\r\nunaffable\n\nhello world hello");
  std::ostringstream out;
  tokenizeLines(t, in, out, WordPieceTokenizer::kNoMaxLen);
  EXPECT_EQ(out.str(), "2 4 7 5 6 3\n2 11 12 13 3\n2 3\n2 4 5 4 3\n");

  std::istringstream again("hello world hello\nunaffable\n");
  std::ostringstream truncated;
  tokenizeLines(t, again, truncated, 3);
  EXPECT_EQ(truncated.str(), "2 4 3\n2 11 3\n");
}

TEST_F(TokenizerTest, TokenizeLinesRejectsInvalidUtf8WithLineNumber) {
  const WordPieceTokenizer t = tiny();
  std::istringstream in("hello\nh\xe9llo\n");
  std::ostringstream out;
  try {
    tokenizeLines(t, in, out, WordPieceTokenizer::kNoMaxLen);
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), "<stdin>");
    EXPECT_EQ(e.line(), 2);
    EXPECT_NE(std::string(e.what()).find("<stdin>:2"), std::string::npos) << e.what();
  }
  std::istringstream empty("");
  EXPECT_THROW(tokenizeLines(t, empty, out, 1), ConfigError);
}

}  // namespace
}  // namespace kgrec
