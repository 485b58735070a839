// Frozen text encoder throughput in texts per second (tokenise, encode, pool), at max-len 32
// and 64, for the small seeded test encoder (2 layers, 64 wide) and a BERT-base-shaped one
// (12 layers, 768 wide, 12 heads, 3072) with seeded weights: speed depends on the shape only.
// Texts are long enough that every one is cut to max-len. CPU; add --device-cuda for CUDA.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/common/random.h"
#include "models/encoder/seeded_encoder.h"
#include "models/encoder/text_embedder.h"

namespace kgrec {
namespace {

namespace fs = std::filesystem;

std::string g_device = "cpu";

// A vocabulary of special tokens, letters and their continuations, written once.
const std::vector<std::string>& vocabTokens() {
  static const std::vector<std::string> tokens = [] {
    std::vector<std::string> t = {"[PAD]", "[UNK]", "[CLS]", "[SEP]"};
    for (char c = 'a'; c <= 'z'; ++c) t.push_back(std::string(1, c));
    for (char c = 'a'; c <= 'z'; ++c) t.push_back("##" + std::string(1, c));
    return t;
  }();
  return tokens;
}

fs::path benchDir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("kgrec_encoder_bench_" + std::to_string(::getpid()));
    fs::create_directories(d);
    std::ofstream vocab(d / "vocab.txt");
    for (const std::string& t : vocabTokens()) vocab << t << '\n';
    return d;
  }();
  return dir;
}

std::vector<std::string> texts(std::size_t count) {
  SplitMix64 rng(7);
  std::vector<std::string> out(count);
  for (std::string& text : out) {
    for (int w = 0; w < 40; ++w) {
      text += ' ';
      for (std::uint64_t k = 0; k < 2 + rng.below(6); ++k) text += static_cast<char>('a' + rng.below(26));
    }
  }
  return out;
}

// state.range(0): 0 = seeded small encoder, 1 = BERT-base shape; state.range(1): max-len.
void BM_EmbedTexts(benchmark::State& state) {
  const bool base = state.range(0) == 1;
  SeededEncoderConfig c;
  c.vocab_size = static_cast<std::int64_t>(vocabTokens().size());
  if (base) {
    c.hidden = 768;
    c.layers = 12;
    c.heads = 12;
    c.intermediate = 3072;
  }
  const fs::path model = benchDir() / (base ? "bert-base-shaped.pt" : "seeded-small.pt");
  if (!fs::exists(model)) writeSeededEncoder(c, model.string());
  EmbedOptions o;
  o.encoder_path = model.string();
  o.vocab_path = (benchDir() / "vocab.txt").string();
  o.max_len = state.range(1);
  o.batch = base ? 16 : 256;
  o.device = g_device;
  const TextEncoder encoder(o);
  const std::vector<std::string> batch = texts(base ? 16 : 1024);
  for (auto _ : state) benchmark::DoNotOptimize(encoder.embed(batch));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch.size()));
  state.SetLabel(fmt::format("{} {}", base ? "bert-base-shaped" : "seeded-small", g_device));
}
BENCHMARK(BM_EmbedTexts)->ArgsProduct({{0}, {32, 64}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EmbedTexts)->ArgsProduct({{1}, {32, 64}})->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kgrec

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--device-cuda") == 0) kgrec::g_device = "cuda";
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  std::filesystem::remove_all(kgrec::benchDir());
  return 0;
}
