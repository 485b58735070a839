#pragma once
// BERT's uncased WordPiece tokenizer, reproducing Hugging Face's BertTokenizer with
// do_lower_case=True, tokenize_chinese_chars=True and accent stripping: the ids it gives must be
// the ids a pretrained BERT-family encoder was trained on, so every step follows that reference
// rather than any other notion of "word" (docs/text.md lists the steps).

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kgrec {

// One text ready for an encoder: [CLS] wordpieces [SEP], then [PAD]s when padded.
struct Encoding {
  std::vector<std::int32_t> ids;
  std::vector<std::uint8_t> attention_mask;  // 1 for real tokens, 0 for padding
};

enum class Padding {
  kNone,    // as long as the text needs (up to max_len)
  kMaxLen,  // always max_len ids, the tail [PAD] with mask 0
};

class WordPieceTokenizer {
 public:
  // max_len value meaning "do not truncate" (padding then needs a real max_len).
  static constexpr std::int64_t kNoMaxLen = 0;
  // BERT's max_input_chars_per_word: a longer word (in code points) becomes one [UNK].
  static constexpr std::size_t kMaxCharsPerWord = 100;

  // Reads a vocabulary: one token a line, id = line number from 0. Throws InputError naming the
  // file (and line) for an empty or duplicate token, invalid UTF-8, or a missing [UNK], [CLS],
  // [SEP] or [PAD].
  static WordPieceTokenizer fromVocabFile(const std::string& path);

  // The wordpieces of `text` (UTF-8), without [CLS]/[SEP]; unknown words are "[UNK]".
  // Ill-formed UTF-8 sequences count as U+FFFD, which BERT's text cleaning removes.
  std::vector<std::string> tokenize(std::string_view text) const;

  // [CLS] wordpieces [SEP]. With max_len >= 2 the wordpieces are cut so that the whole fits in
  // max_len, [SEP] staying last (as BERT and Hugging Face's Python tokenizers do); kNoMaxLen
  // keeps everything. Throws ConfigError for any other max_len, or for padding without one.
  Encoding encode(std::string_view text, std::int64_t max_len,
                  Padding padding = Padding::kNone) const;
  std::vector<Encoding> encodeBatch(const std::vector<std::string>& texts, std::int64_t max_len,
                                    Padding padding = Padding::kNone) const;

  std::int64_t vocabSize() const { return static_cast<std::int64_t>(tokens_.size()); }
  const std::string& token(std::int32_t id) const { return tokens_.at(id); }
  std::int32_t unkId() const { return unk_id_; }
  std::int32_t clsId() const { return cls_id_; }
  std::int32_t sepId() const { return sep_id_; }
  std::int32_t padId() const { return pad_id_; }

 private:
  WordPieceTokenizer() = default;

  // Appends the wordpiece ids of `text`, stopping once `ids` holds `limit` (words are split
  // independently left to right, so the result is a prefix of the untruncated one).
  void appendIds(std::string_view text, std::size_t limit, std::vector<std::int32_t>* ids) const;
  // Greedy longest-match-first split of one basic token of `chars` code points.
  void appendWordPieces(std::string_view word, std::size_t chars,
                        std::vector<std::int32_t>* ids) const;
  std::int32_t find(const std::string& piece) const;

  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::int32_t> ids_;
  std::int32_t unk_id_ = -1;
  std::int32_t cls_id_ = -1;
  std::int32_t sep_id_ = -1;
  std::int32_t pad_id_ = -1;
};

// `kgrec tokenize`: for each line of `in` (UTF-8; a trailing "\r" is dropped) one line of
// space-separated encoder ids on `out`, [CLS] and [SEP] included, truncated to max_len (or
// kNoMaxLen), never padded. Invalid UTF-8 throws InputError naming "<stdin>:LINE".
void tokenizeLines(const WordPieceTokenizer& tokenizer, std::istream& in, std::ostream& out,
                   std::int64_t max_len);

}  // namespace kgrec
