// LightGCN's propagation kernel, y = A x over a normalised user-item graph, in GB/s of
// gathered rows and in stored entries per second, for several widths and thread counts.
// Uses ../shared/datasets/gowalla when present, else the synthetic graph at a similar size.

#include <benchmark/benchmark.h>

#include <ATen/Parallel.h>
#include <filesystem>

#include "engine/common/process.h"
#include "engine/graph/normalized_adjacency.h"
#include "engine/graph/synthetic.h"
#include "engine/prepare/importers.h"
#include "models/graph_tensors.h"

namespace kgrec {
namespace {

const WeightedCsr& benchGraph() {
  static const WeightedCsr graph = [] {
    const std::string gowalla = std::string(KGREC_SHARED_DIR) + "/datasets/gowalla";
    if (std::filesystem::exists(gowalla + "/train.txt")) {
      ImportOptions o;
      o.format = InputFormat::kLightGcn;
      o.train = gowalla + "/train.txt";
      o.test = gowalla + "/test.txt";
      return normalizedInteractionGraph(importDataset(o));
    }
    SyntheticOptions s;
    s.users = 30000;
    s.items = 40000;
    s.entities = 1000;
    return normalizedInteractionGraph(generateSynthetic(s));
  }();
  return graph;
}

void BM_Spmm(benchmark::State& state) {
  const std::int64_t dim = state.range(0);
  at::set_num_threads(static_cast<int>(state.range(1)));
  const WeightedCsr& graph = benchGraph();
  CsrTensors a = CsrTensors::from(graph, torch::kCPU);
  torch::Tensor x = torch::randn({graph.num_rows, dim});
  for (auto _ : state) {
    torch::Tensor y = spmm(a, x);
    benchmark::DoNotOptimize(y.data_ptr<float>());
  }
  const double entries = static_cast<double>(graph.nnz()) * state.iterations();
  state.counters["entries/s"] = benchmark::Counter(entries, benchmark::Counter::kIsRate);
  state.counters["gathered_GB/s"] =
      benchmark::Counter(entries * dim * sizeof(float) / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(std::to_string(graph.nnz()) + " entries");
}
BENCHMARK(BM_Spmm)
    ->ArgNames({"dim", "threads"})
    ->Args({64, 1})
    ->Args({64, 2})
    ->Args({128, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace kgrec

int main(int argc, char** argv) {
  kgrec::keepFreedMemoryForReuse();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
