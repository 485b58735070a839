// All-reduce bandwidth by message size for each ProcessGroup backend, reported as nccl-tests
// does (algbw = bytes / time; busbw = algbw * 2 (n - 1) / n, the per-link rate of a ring, which
// is comparable across rank counts), and what bucketed gradient all-reduce hides of the
// communication behind the backward pass. Run under mpirun; rank 0 reports:
//   mpirun --oversubscribe --bind-to none -np 2 build-comm/bench/allreduce_bench
// Each measurement is the slowest rank's time (an all-reduce is done when every rank is).
// Iteration counts are fixed, not adaptive, so that every rank runs the same collectives.

#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/autograd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include "comm/gradient_synchronizer.h"
#include "comm/mpi/mpi_check.h"
#include "comm/mpi/mpi_process_group.h"
#include "comm/mpi/mpi_runtime.h"
#ifdef KGREC_HAVE_CUDA
#include <c10/cuda/CUDAFunctions.h>

#include "comm/nccl/nccl_process_group.h"
#endif

namespace kgrec {
namespace {

std::shared_ptr<ProcessGroup> g_mpi;
std::shared_ptr<ProcessGroup> g_nccl;  // only with CUDA and a GPU per rank

double seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The slowest rank's value of `local`.
double slowest(double local) {
  KGREC_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &local, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
  return local;
}

void allReduceBandwidth(benchmark::State& state, ProcessGroup* group, torch::Device device) {
  const std::int64_t bytes = state.range(0);
  torch::Tensor t = torch::ones({bytes / 4}, torch::TensorOptions().device(device));
  // The host must see NCCL's completion to time it; MPI's wait() already blocks.
  auto finish = [&](const WorkPtr& work) {
    work->wait();
#ifdef KGREC_HAVE_CUDA
    if (device.is_cuda()) c10::cuda::device_synchronize();
#endif
  };
  finish(group->allReduce(t, ReduceOp::kSum));  // warm-up: connections, buffers
  double total = 0;
  for (auto _ : state) {
    KGREC_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    const double start = seconds();
    finish(group->allReduce(t, ReduceOp::kSum));
    const double elapsed = slowest(seconds() - start);
    state.SetIterationTime(elapsed);
    total += elapsed;
  }
  const double n = group->size();
  const double algbw = bytes * static_cast<double>(state.iterations()) / total / 1e9;
  state.counters["algbw_GBps"] = algbw;
  state.counters["busbw_GBps"] = algbw * 2 * (n - 1) / n;
  state.counters["ranks"] = n;
  state.SetLabel(group->backendName());
}

// A stack of dense layers, heavy in parameters for its compute, as the replicated part of a
// GNN is: 8 layers 512 x 512 (8 MiB of float32 gradients), batch 64.
struct Mlp {
  std::vector<torch::Tensor> params;
  explicit Mlp(std::uint64_t seed) {
    torch::manual_seed(seed);
    for (int i = 0; i < 8; ++i) {
      params.push_back((torch::randn({512, 512}) / 23.0).requires_grad_(true));
      params.push_back(torch::zeros({512}, torch::requires_grad()));
    }
  }
  void backward(const torch::Tensor& x) {
    torch::Tensor h = x;
    for (std::size_t i = 0; i < params.size(); i += 2) {
      h = torch::relu(torch::matmul(h, params[i]) + params[i + 1]);
    }
    h.pow(2).mean().backward();
  }
};

// Times one training step's backward (and synchronisation) on the slowest rank.
template <typename Step>
double timeStep(Step step) {
  KGREC_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
  const double start = seconds();
  step();
  return slowest(seconds() - start);
}

void backwardOverlap(benchmark::State& state) {
  const std::int64_t bucket_bytes = state.range(0);
  Mlp plain(1), sequential(1), overlapped(1);
  GradientSynchronizerOptions off;
  off.bucket_bytes = bucket_bytes;
  off.overlap = false;
  GradientSynchronizerOptions on = off;
  on.overlap = true;
  GradientSynchronizer sync_off(g_mpi, sequential.params, off);
  GradientSynchronizer sync_on(g_mpi, overlapped.params, on);
  torch::Tensor x = torch::randn({64, 512});

  double compute = 0, after = 0, hidden = 0;
  for (auto _ : state) {
    compute += timeStep([&] { plain.backward(x); });
    after += timeStep([&] {
      sequential.backward(x);
      sync_off.finalize();
    });
    const double t = timeStep([&] {
      overlapped.backward(x);
      sync_on.finalize();
    });
    hidden += t;
    state.SetIterationTime(t);
  }
  const double iters = static_cast<double>(state.iterations());
  const double communication = after - compute;  // all-reduce time when nothing overlaps it
  state.counters["backward_ms"] = compute / iters * 1e3;
  state.counters["sequential_ms"] = after / iters * 1e3;
  state.counters["overlapped_ms"] = hidden / iters * 1e3;
  state.counters["hidden_frac"] = communication > 0 ? (after - hidden) / communication : 0;
  state.counters["buckets"] = static_cast<double>(sync_on.numBuckets());
}

// Iterations by size: enough to average, few enough that 256 MiB stays short.
std::int64_t iterationsFor(std::int64_t bytes) {
  if (bytes <= (1 << 20)) return 100;
  if (bytes <= (16 << 20)) return 20;
  return 4;
}

void registerBenchmarks() {
  std::vector<std::pair<std::shared_ptr<ProcessGroup>, torch::Device>> backends = {
      {g_mpi, torch::Device(torch::kCPU)}};
#ifdef KGREC_HAVE_CUDA
  if (g_nccl) backends.emplace_back(g_nccl, torch::Device(torch::kCUDA, c10::cuda::current_device()));
#endif
  for (const auto& [group, device] : backends) {
    for (std::int64_t bytes = 4 << 10; bytes <= (256 << 20); bytes *= 4) {
      benchmark::RegisterBenchmark(("AllReduce/" + group->backendName()).c_str(),
                                   allReduceBandwidth, group.get(), device)
          ->Arg(bytes)
          ->Iterations(iterationsFor(bytes))
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::RegisterBenchmark("BackwardOverlap/mpi", backwardOverlap)
      ->Arg(1 << 20)
      ->Arg(4 << 20)
      ->Arg(25 << 20)
      ->Iterations(20)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

// Ranks other than 0 run the same benchmarks silently.
class SilentReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace
}  // namespace kgrec

int main(int argc, char** argv) {
  try {
    kgrec::MpiRuntime mpi(&argc, &argv);
    at::set_num_threads(1);  // ranks share the machine's cores
    kgrec::g_mpi = std::make_shared<kgrec::MpiProcessGroup>();
#ifdef KGREC_HAVE_CUDA
    int gpus = kgrec::NcclProcessGroup::available() && c10::cuda::device_count() >= mpi.localSize();
    KGREC_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &gpus, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
    if (gpus) {
      c10::cuda::set_device(mpi.localRank());
      kgrec::g_nccl = std::make_shared<kgrec::NcclProcessGroup>(MPI_COMM_WORLD, mpi.localRank());
    }
#endif
    benchmark::Initialize(&argc, argv);
    kgrec::registerBenchmarks();
    if (mpi.rank() == 0) {
      benchmark::RunSpecifiedBenchmarks();
    } else {
      kgrec::SilentReporter silent;
      benchmark::RunSpecifiedBenchmarks(&silent);
    }
    benchmark::Shutdown();
    kgrec::g_nccl.reset();
    kgrec::g_mpi.reset();
  } catch (const std::exception& e) {
    kgrec::abortJob(e.what());
  }
}
