// BERT WordPiece tokenisation in texts per second, encoded and padded to max-len 32 and 64 (the
// lengths item titles and short descriptions need). Uses the uncased BERT vocabulary from
// ../shared/models and the ml-100k movie titles from ../shared/datasets when present, else
// synthetic sentences of the same kind (Latin words, accents, punctuation, years).

#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "engine/common/line_reader.h"
#include "engine/common/random.h"
#include "models/text/wordpiece_tokenizer.h"

namespace kgrec {
namespace {

const std::string kShared = KGREC_SHARED_DIR;

std::vector<std::string> syntheticTexts() {
  const std::vector<std::string> words = {
      "The",     "story",  "of",     "Léon",    "café",      "night",  "Crime|Thriller",
      "(1995)",  "Amélie", "lost",   "children", "Professional", "a.k.a.", "Ágætis",
      "don't",   "return", "Dragon", "Tiger,",  "unbelievable", "Schindler's", "Comedy"};
  SplitMix64 rng(42);
  std::vector<std::string> texts(2000);
  for (std::string& text : texts) {
    const std::uint64_t length = 3 + rng.below(10);
    for (std::uint64_t k = 0; k < length; ++k) {
      if (k > 0) text += ' ';
      text += words[rng.below(words.size())];
    }
  }
  return texts;
}

struct BenchTexts {
  std::vector<std::string> texts;
  std::string source;
};

// Movie titles (u.item's second field, Latin-1), else synthetic sentences.
const BenchTexts& benchTexts() {
  static const BenchTexts texts = [] {
    const std::string items = kShared + "/datasets/ml-100k/u.item";
    if (!std::filesystem::exists(items)) return BenchTexts{syntheticTexts(), "synthetic"};
    std::vector<std::string> titles;
    LineReader reader(items);
    std::string_view line;
    std::vector<std::string_view> fields;
    while (reader.next(&line)) {
      splitExact(line, '|', &fields);
      if (fields.size() > 1) titles.push_back(latin1ToUtf8(fields[1]));
    }
    return BenchTexts{std::move(titles), "ml-100k titles"};
  }();
  return texts;
}

void BM_Encode(benchmark::State& state) {
  const std::string vocab = kShared + "/models/vocab-bert-uncased.txt";
  if (!std::filesystem::exists(vocab)) {
    state.SkipWithError(("no BERT vocabulary at " + vocab).c_str());
    return;
  }
  const WordPieceTokenizer tokenizer = WordPieceTokenizer::fromVocabFile(vocab);
  const std::vector<std::string>& texts = benchTexts().texts;
  const std::int64_t max_len = state.range(0);
  std::int64_t bytes = 0;
  for (const std::string& text : texts) bytes += static_cast<std::int64_t>(text.size());
  for (auto _ : state) {
    for (const std::string& text : texts) {
      Encoding encoding = tokenizer.encode(text, max_len, Padding::kMaxLen);
      benchmark::DoNotOptimize(encoding.ids.data());
    }
  }
  state.counters["texts/s"] = benchmark::Counter(
      static_cast<double>(texts.size()) * state.iterations(), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(bytes * state.iterations());
  state.SetLabel(std::to_string(texts.size()) + " " + benchTexts().source);
}
BENCHMARK(BM_Encode)->ArgName("max_len")->Arg(32)->Arg(64)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kgrec

BENCHMARK_MAIN();
