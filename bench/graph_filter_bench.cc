// The graph filter's two costs on gowalla (synthetic at a similar size when absent): fitting
// (R~, the randomized SVD of the ideal part) and scoring a 2048-user evaluation batch, by
// users per block (the [items, block] signals' width) and with / without the ideal part.

#include <benchmark/benchmark.h>

#include <filesystem>

#include "engine/graph/synthetic.h"
#include "engine/prepare/importers.h"
#include "models/graph_filter.h"

namespace kgrec {
namespace {

struct BenchData {
  Csr user_items;
  std::int64_t num_items = 0;
};

const BenchData& benchData() {
  static const BenchData data = [] {
    const std::string gowalla = std::string(KGREC_SHARED_DIR) + "/datasets/gowalla";
    Dataset d;
    if (std::filesystem::exists(gowalla + "/train.txt")) {
      ImportOptions o;
      o.format = InputFormat::kLightGcn;
      o.train = gowalla + "/train.txt";
      o.test = gowalla + "/test.txt";
      d = importDataset(o);
    } else {
      SyntheticOptions s;
      s.users = 30000;
      s.items = 40000;
      s.entities = 0;
      d = generateSynthetic(s);
    }
    return BenchData{userItemCsr(d.train, d.nodes.num_users), d.nodes.num_items};
  }();
  return data;
}

GraphFilterOptions benchOptions(const std::string& preset, std::int64_t block) {
  GraphFilterOptions o = graphFilterPreset(preset);
  o.item_matrix = "factored";
  o.block_users = block;
  return o;
}

void BM_Fit(benchmark::State& state, const std::string& preset) {
  const BenchData& d = benchData();
  for (auto _ : state) {
    GraphFilter filter(d.user_items, d.num_items, benchOptions(preset, 512));
    benchmark::DoNotOptimize(&filter);
  }
}

void BM_Scores(benchmark::State& state, const std::string& preset) {
  const BenchData& d = benchData();
  static TruncatedSvd svd;  // one SVD for every block width
  GraphFilterOptions o = benchOptions(preset, state.range(0));
  const GraphFilter filter(d.user_items, d.num_items, o, svd);
  if (!svd.right_vectors.defined()) svd = filter.svd();
  const torch::Tensor users = torch::arange(2048, torch::kInt64);
  for (auto _ : state) {
    torch::Tensor s = filter.scores(users);
    benchmark::DoNotOptimize(s.data_ptr<float>());
  }
  state.counters["users/s"] = benchmark::Counter(2048.0 * state.iterations(), benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_Fit, gf_cf, std::string("gf-cf"))->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_Scores, gf_cf, std::string("gf-cf"))
    ->Arg(64)->Arg(128)->Arg(256)->Arg(512)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_Scores, bspm, std::string("bspm"))
    ->Arg(128)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace kgrec

BENCHMARK_MAIN();
