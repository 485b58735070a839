// NcclProcessGroup against closed-form values, as process_group_test.cc does for MPI. Needs a
// CUDA build and one GPU per rank on each node; skips cleanly otherwise. Every test that needs
// a GPU has "Gpu" in its name: tests/comm/CMakeLists.txt runs them as CTest entries of their
// own, reported as skipped where they skip.

#include <gtest/gtest.h>

#include <torch/types.h>

#include "comm/mpi/mpi_check.h"
#include "tests/comm/comm_testing.h"

#ifdef KGREC_HAVE_CUDA
#include <c10/cuda/CUDAFunctions.h>

#include "comm/mpi/mpi_process_group.h"
#include "comm/nccl/nccl_process_group.h"
#endif

namespace kgrec {
namespace {

constexpr const char* kNoCudaBuild =
    "built without CUDA and NCCL (the CUDA configuration: scripts/setup-cuda.sh)";
constexpr const char* kNeedsGpuPerRank =
    "needs a CUDA device per rank on every node (no device seen, or fewer than the ranks)";

#ifdef KGREC_HAVE_CUDA
// The same decision on every rank: NCCL needs one GPU per rank on every node.
bool everyRankHasItsGpu() {
  int ok = NcclProcessGroup::available() && c10::cuda::device_count() >= testing::localSize();
  KGREC_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  return ok != 0;
}

torch::Tensor onGpu(const torch::Tensor& t) { return t.to(torch::Device(torch::kCUDA, testing::localRank())); }
#endif

TEST(NcclProcessGroup, CollectivesOnGpuTensors) {
#ifndef KGREC_HAVE_CUDA
  GTEST_SKIP() << kNoCudaBuild;
#else
  if (!everyRankHasItsGpu()) GTEST_SKIP() << kNeedsGpuPerRank;
  NcclProcessGroup group(MPI_COMM_WORLD, testing::localRank());
  const int n = group.size();
  const int me = group.rank();
  for (torch::ScalarType type : {torch::kFloat, torch::kHalf, torch::kBFloat16}) {
    for (std::int64_t numel : {0, 1, 1000, 65537}) {
      torch::Tensor base = torch::arange(numel, torch::kLong) % 7;
      torch::Tensor sum = onGpu((base * (me + 1)).to(type));
      torch::Tensor avg = sum.clone();
      group.allReduce(sum, ReduceOp::kSum)->wait();
      group.allReduce(avg, ReduceOp::kAvg)->wait();
      torch::Tensor expected = base.to(torch::kDouble) * (n * (n + 1) / 2.0);
      EXPECT_TRUE(torch::equal(sum.cpu(), expected.to(type))) << c10::toString(type) << " " << numel;
      EXPECT_TRUE(torch::equal(avg.cpu(), (expected / n).to(type))) << c10::toString(type) << " " << numel;
    }
  }
  torch::Tensor b = onGpu(torch::full({4, 3}, me + 1.0));
  group.broadcast(b, n - 1)->wait();
  EXPECT_TRUE(torch::equal(b.cpu(), torch::full({4, 3}, static_cast<double>(n))));
  group.barrier()->wait();

  RankRows gathered = group.allGatherV(onGpu(torch::full({me, 2}, me + 0.0)))->result();
  std::int64_t offset = 0;
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(gathered.counts[r], r);
    EXPECT_TRUE(torch::equal(gathered.tensor.narrow(0, offset, r).cpu(), torch::full({r, 2}, r + 0.0)));
    offset += r;
  }

  std::vector<std::int64_t> counts;
  std::vector<torch::Tensor> blocks;
  for (int d = 0; d < n; ++d) {
    counts.push_back((me + d) % 3);
    blocks.push_back(torch::full({counts.back(), 2}, 10.0 * me + d));
  }
  RankRows exchanged = group.allToAllV(onGpu(torch::cat(blocks)), counts)->result();
  offset = 0;
  for (int s = 0; s < n; ++s) {
    const std::int64_t rows = (s + me) % 3;
    EXPECT_EQ(exchanged.counts[s], rows);
    EXPECT_TRUE(torch::equal(exchanged.tensor.narrow(0, offset, rows).cpu(),
                             torch::full({rows, 2}, 10.0 * s + me)));
    offset += rows;
  }
#endif
}

// duplicate(): a second communicator of the same ranks whose collectives do not match the
// first one's, so two groups can interleave their calls in different orders.
TEST(NcclProcessGroup, DuplicateIsASeparateGroupOnGpu) {
#ifndef KGREC_HAVE_CUDA
  GTEST_SKIP() << kNoCudaBuild;
#else
  if (!everyRankHasItsGpu()) GTEST_SKIP() << kNeedsGpuPerRank;
  NcclProcessGroup group(MPI_COMM_WORLD, testing::localRank());
  std::shared_ptr<ProcessGroup> copy = group.duplicate();
  EXPECT_EQ(copy->backendName(), "nccl");
  EXPECT_EQ(copy->rank(), group.rank());
  EXPECT_EQ(copy->size(), group.size());
  const int n = group.size();
  torch::Tensor a = onGpu(torch::full({3}, group.rank() + 1.0));
  torch::Tensor b = onGpu(torch::full({5}, 2.0 * (group.rank() + 1)));
  WorkPtr on_copy = copy->allReduce(b, ReduceOp::kSum);
  WorkPtr on_group = group.allReduce(a, ReduceOp::kSum);
  on_group->wait();
  on_copy->wait();
  EXPECT_TRUE(torch::equal(a.cpu(), torch::full({3}, n * (n + 1) / 2.0)));
  EXPECT_TRUE(torch::equal(b.cpu(), torch::full({5}, n * (n + 1) * 1.0)));
#endif
}

TEST(MpiProcessGroup, StagesGpuTensorsThroughHostMemory) {
#ifndef KGREC_HAVE_CUDA
  GTEST_SKIP() << kNoCudaBuild;
#else
  int ok = c10::cuda::device_count() > 0;
  KGREC_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  if (!ok) GTEST_SKIP() << "needs a CUDA device on every rank (none seen)";
  auto group = testing::worldGroup();
  const int n = group->size();
  // Ranks may share one GPU here: the MPI backend does not mind.
  torch::Tensor t = torch::full({1000}, group->rank() + 1.0).to(torch::kCUDA);
  group->allReduce(t, ReduceOp::kSum)->wait();
  EXPECT_TRUE(t.is_cuda());
  EXPECT_TRUE(torch::equal(t.cpu(), torch::full({1000}, n * (n + 1) / 2.0)));
#endif
}

}  // namespace
}  // namespace kgrec
