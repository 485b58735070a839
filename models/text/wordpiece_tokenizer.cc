#include "models/text/wordpiece_tokenizer.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <istream>
#include <limits>
#include <ostream>

#include "engine/common/error.h"
#include "engine/common/line_reader.h"

namespace kgrec {
namespace {

constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();

// How BERT's text cleaning and punctuation splitting see an ASCII byte; looked up in a table
// because nearly all text is ASCII and ICU's property lookups are comparatively slow.
enum AsciiClass : std::uint8_t { kAsciiOther, kAsciiDrop, kAsciiSpace, kAsciiPunct };

constexpr AsciiClass asciiClass(int c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return kAsciiSpace;
  if (c < 32 || c == 127) return kAsciiDrop;  // NUL and the other C0 controls, DEL
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126)) {
    return kAsciiPunct;  // BERT counts every non-alphanumeric ASCII symbol as punctuation
  }
  return kAsciiOther;
}

struct AsciiTable {
  AsciiClass cls[128];
  constexpr AsciiTable() : cls() {
    for (int c = 0; c < 128; ++c) cls[c] = asciiClass(c);
  }
};
constexpr AsciiTable kAscii;

// BERT's _is_control (Hugging Face's form): every category C* (Cc, Cf, Cn, Co, Cs); \t \n \r
// are whitespace instead. U+FFFD (also what ill-formed UTF-8 decodes to) is removed as well.
bool isDropped(UChar32 c) {
  if (c < 0x80) return kAscii.cls[c] == kAsciiDrop;
  return c == 0xFFFD || (U_GET_GC_MASK(c) & U_GC_C_MASK) != 0;
}

// BERT's _is_whitespace (space, \t \n \r, Zs) plus Zl and Zp: those survive BERT's cleaning but
// Python's str.split(), which BERT then splits with, treats them as whitespace too.
bool isWhitespace(UChar32 c) {
  if (c < 0x80) return kAscii.cls[c] == kAsciiSpace;
  return (U_GET_GC_MASK(c) & U_GC_Z_MASK) != 0;
}

bool isPunctuation(UChar32 c) {
  if (c < 0x80) return kAscii.cls[c] == kAsciiPunct;
  return (U_GET_GC_MASK(c) & U_GC_P_MASK) != 0;
}

// BERT's _is_chinese_char: the CJK Unified Ideographs blocks, each ideograph a word of its own.
// (Hiragana, Katakana and Hangul are not in these blocks and stay inside words.)
bool isChineseChar(UChar32 c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

const icu::Normalizer2& nfd() {
  static const icu::Normalizer2* const instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFDInstance(status);
    if (U_FAILURE(status)) {
      throw Error(fmt::format("ICU's NFD normaliser is unavailable: {}", u_errorName(status)));
    }
    return n;
  }();
  return *instance;
}

void appendUtf8(UChar32 c, std::string* out) {
  char bytes[U8_MAX_LENGTH];
  std::int32_t length = 0;
  U8_APPEND_UNSAFE(bytes, length, c);
  out->append(bytes, static_cast<std::size_t>(length));
}

// BERT lower-cases each whitespace-delimited word with Python's str.lower() (full case mapping,
// context-sensitive final sigma: ICU's root-locale toLower is the same mapping), then strips
// accents: NFD, then drop the non-spacing marks (Mn). The result stays decomposed.
void lowerAndStripAccents(std::string_view word, bool ascii, std::string* out) {
  out->clear();
  if (ascii) {  // ASCII has no marks and no decompositions: only A-Z change
    for (char ch : word) out->push_back(ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + 32) : ch);
    return;
  }
  icu::UnicodeString text = icu::UnicodeString::fromUTF8(
      icu::StringPiece(word.data(), static_cast<std::int32_t>(word.size())));
  text.toLower(icu::Locale::getRoot());
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString decomposed = nfd().normalize(text, status);
  if (U_FAILURE(status)) {
    throw Error(fmt::format("ICU's NFD normalisation failed: {}", u_errorName(status)));
  }
  for (std::int32_t i = 0; i < decomposed.length();) {
    const UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) != U_NON_SPACING_MARK) appendUtf8(c, out);
  }
}

void checkMaxLen(std::int64_t max_len, Padding padding) {
  if (max_len != WordPieceTokenizer::kNoMaxLen && max_len < 2) {
    throw ConfigError(fmt::format("max length {} is too small: it counts [CLS] and [SEP], so it "
                                  "must be at least 2 (or 0 for no limit)",
                                  max_len));
  }
  if (padding == Padding::kMaxLen && max_len == WordPieceTokenizer::kNoMaxLen) {
    throw ConfigError("padding to the max length needs a max length (got 0, no limit)");
  }
}

}  // namespace

WordPieceTokenizer WordPieceTokenizer::fromVocabFile(const std::string& path) {
  WordPieceTokenizer tokenizer;
  LineReader reader(path);
  std::string_view line;
  while (reader.next(&line)) {
    if (line.empty()) {
      reader.fail("empty token: a vocabulary has one token a line, its id the line number from 0");
    }
    if (!isValidUtf8(line)) reader.fail("token is not valid UTF-8");
    const auto id = static_cast<std::int32_t>(tokenizer.tokens_.size());
    const auto [it, inserted] = tokenizer.ids_.emplace(std::string(line), id);
    if (!inserted) {
      reader.fail(fmt::format("duplicate token '{}' (first on line {})", line, it->second + 1));
    }
    tokenizer.tokens_.emplace_back(line);
  }
  const auto special = [&](const char* name) {
    const std::int32_t id = tokenizer.find(name);
    if (id < 0) {
      throw InputError(path, fmt::format("no {} token: a BERT vocabulary needs [PAD], [UNK], "
                                         "[CLS] and [SEP]",
                                         name));
    }
    return id;
  };
  tokenizer.pad_id_ = special("[PAD]");
  tokenizer.unk_id_ = special("[UNK]");
  tokenizer.cls_id_ = special("[CLS]");
  tokenizer.sep_id_ = special("[SEP]");
  return tokenizer;
}

std::int32_t WordPieceTokenizer::find(const std::string& piece) const {
  const auto it = ids_.find(piece);
  return it == ids_.end() ? -1 : it->second;
}

void WordPieceTokenizer::appendWordPieces(std::string_view word, std::size_t chars,
                                          std::vector<std::int32_t>* ids) const {
  if (chars > kMaxCharsPerWord) {
    ids->push_back(unk_id_);
    return;
  }
  const std::size_t first = ids->size();
  std::string piece;
  std::size_t start = 0;
  while (start < word.size()) {
    std::size_t end = word.size();
    std::int32_t id = -1;
    while (end > start) {
      piece.assign(start > 0 ? "##" : "");
      piece.append(word.data() + start, end - start);
      id = find(piece);
      if (id >= 0) break;
      do {  // one code point shorter: skip back over UTF-8 continuation bytes
        --end;
      } while (end > start && U8_IS_TRAIL(word[end]));
    }
    if (id < 0) {  // BERT maps the whole word, not just the rest, to [UNK]
      ids->resize(first);
      ids->push_back(unk_id_);
      return;
    }
    ids->push_back(id);
    start = end;
  }
}

void WordPieceTokenizer::appendIds(std::string_view text, std::size_t limit,
                                   std::vector<std::int32_t>* ids) const {
  std::string word;  // the current whitespace-delimited word, cleaned, as UTF-8
  bool word_is_ascii = true;
  std::string normalized;
  // Lower-cases and strips the word, then splits it on punctuation (each punctuation character
  // a token of its own) and each piece into wordpieces.
  const auto flush = [&] {
    if (word.empty()) return;
    lowerAndStripAccents(word, word_is_ascii, &normalized);
    word.clear();
    word_is_ascii = true;
    std::size_t start = 0;
    std::size_t chars = 0;
    for (std::size_t i = 0; i < normalized.size();) {
      const std::size_t at = i;
      UChar32 c = 0;
      U8_NEXT_OR_FFFD(normalized.data(), i, normalized.size(), c);
      if (!isPunctuation(c)) {
        ++chars;
        continue;
      }
      if (at > start) appendWordPieces({normalized.data() + start, at - start}, chars, ids);
      appendWordPieces({normalized.data() + at, i - at}, 1, ids);
      start = i;
      chars = 0;
    }
    if (start < normalized.size()) {
      appendWordPieces({normalized.data() + start, normalized.size() - start}, chars, ids);
    }
  };

  const char* s = text.data();
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n && ids->size() < limit;) {
    const std::size_t at = i;
    UChar32 c = 0;
    U8_NEXT_OR_FFFD(s, i, n, c);
    if (isDropped(c)) continue;
    if (isWhitespace(c)) {
      flush();
      continue;
    }
    const bool chinese = isChineseChar(c);
    if (chinese) flush();
    word.append(s + at, i - at);
    if (c >= 0x80) word_is_ascii = false;
    if (chinese) flush();
  }
  flush();
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  std::vector<std::int32_t> ids;
  appendIds(text, kNoLimit, &ids);
  std::vector<std::string> pieces;
  pieces.reserve(ids.size());
  for (std::int32_t id : ids) pieces.push_back(tokens_[id]);
  return pieces;
}

Encoding WordPieceTokenizer::encode(std::string_view text, std::int64_t max_len,
                                    Padding padding) const {
  checkMaxLen(max_len, padding);
  Encoding encoding;
  encoding.ids.push_back(cls_id_);
  if (max_len == kNoMaxLen) {
    appendIds(text, kNoLimit, &encoding.ids);
  } else {
    const auto keep = static_cast<std::size_t>(max_len - 1);  // [CLS] and wordpieces
    appendIds(text, keep, &encoding.ids);
    if (encoding.ids.size() > keep) encoding.ids.resize(keep);
  }
  encoding.ids.push_back(sep_id_);
  encoding.attention_mask.assign(encoding.ids.size(), 1);
  if (padding == Padding::kMaxLen) {
    encoding.ids.resize(static_cast<std::size_t>(max_len), pad_id_);
    encoding.attention_mask.resize(static_cast<std::size_t>(max_len), 0);
  }
  return encoding;
}

std::vector<Encoding> WordPieceTokenizer::encodeBatch(const std::vector<std::string>& texts,
                                                      std::int64_t max_len,
                                                      Padding padding) const {
  checkMaxLen(max_len, padding);
  std::vector<Encoding> encodings;
  encodings.reserve(texts.size());
  for (const std::string& text : texts) encodings.push_back(encode(text, max_len, padding));
  return encodings;
}

void tokenizeLines(const WordPieceTokenizer& tokenizer, std::istream& in, std::ostream& out,
                   std::int64_t max_len) {
  checkMaxLen(max_len, Padding::kNone);
  std::string line;
  std::string text;
  std::int64_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!isValidUtf8(line)) {
      throw InputError("<stdin>", line_number,
                       "not valid UTF-8: kgrec tokenize reads UTF-8 text (convert other "
                       "encodings first, e.g. iconv -f latin1 -t utf-8)");
    }
    const Encoding encoding = tokenizer.encode(line, max_len);
    text.clear();
    for (std::size_t k = 0; k < encoding.ids.size(); ++k) {
      if (k > 0) text.push_back(' ');
      text.append(fmt::format_int(encoding.ids[k]).c_str());
    }
    text.push_back('\n');
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  if (in.bad()) throw Error("kgrec tokenize: reading standard input failed");
}

}  // namespace kgrec
