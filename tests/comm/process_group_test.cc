// Each collective of MpiProcessGroup against values every rank computes on its own from closed
// formulas. Contributions are small integers, exact in every dtype, so that any summation
// order MPI picks gives the same bits.

#include <gtest/gtest.h>

#include <vector>

#include <torch/types.h>

#include "comm/comm_error.h"
#include "comm/mpi/mpi_check.h"
#include "tests/comm/comm_testing.h"

namespace kgrec {
namespace {

const std::vector<torch::ScalarType> kFloatTypes = {torch::kFloat, torch::kHalf, torch::kBFloat16,
                                                     torch::kDouble};
// Sizes not divisible by 2 or 4 ranks, and empty ones.
const std::vector<std::int64_t> kSizes = {0, 1, 7, 1000, 65537};

// Rank r's contribution at flat position i: (r + 1) * (i % 7).
torch::Tensor contribution(int rank, std::int64_t numel, torch::ScalarType type) {
  return (torch::arange(numel, torch::kLong) % 7 * (rank + 1)).to(type);
}

// The sum over n ranks: (i % 7) * n (n + 1) / 2; the mean divides it by n.
torch::Tensor expectedReduction(int n, std::int64_t numel, ReduceOp op, torch::ScalarType type) {
  torch::Tensor sum = (torch::arange(numel, torch::kLong) % 7).to(torch::kDouble) * (n * (n + 1) / 2.0);
  return (op == ReduceOp::kAvg ? sum / n : sum).to(type);
}

// Rank r's row j, column c of a variable-size contribution: distinct for every (r, j, c).
torch::Tensor rowsOf(int rank, std::int64_t rows, std::int64_t width, torch::ScalarType type) {
  return (torch::arange(rows * width, torch::kLong).reshape({rows, width}) + 100 * rank).to(type);
}

TEST(MpiProcessGroup, AllReduceEveryFloatTypeSizeAndOp) {
  auto group = testing::worldGroup();
  for (torch::ScalarType type : kFloatTypes) {
    for (std::int64_t numel : kSizes) {
      for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kAvg}) {
        torch::Tensor t = contribution(group->rank(), numel, type);
        group->allReduce(t, op)->wait();
        EXPECT_TRUE(torch::equal(t, expectedReduction(group->size(), numel, op, type)))
            << c10::toString(type) << " numel " << numel << " " << toString(op);
      }
    }
  }
}

TEST(MpiProcessGroup, AllReduceIntegersSum) {
  auto group = testing::worldGroup();
  for (torch::ScalarType type : {torch::kInt, torch::kLong}) {
    torch::Tensor t = contribution(group->rank(), 1001, type);
    group->allReduce(t)->wait();
    EXPECT_TRUE(torch::equal(t, expectedReduction(group->size(), 1001, ReduceOp::kSum, type)))
        << c10::toString(type);
  }
}

TEST(MpiProcessGroup, AllReduceOfNonContiguousTensorWritesInPlace) {
  auto group = testing::worldGroup();
  torch::Tensor base = contribution(group->rank(), 30, torch::kFloat).reshape({5, 6});
  torch::Tensor view = base.t();  // [6, 5], not contiguous
  group->allReduce(view, ReduceOp::kSum)->wait();
  torch::Tensor expected = expectedReduction(group->size(), 30, ReduceOp::kSum, torch::kFloat);
  EXPECT_TRUE(torch::equal(base, expected.reshape({5, 6})));
}

TEST(MpiProcessGroup, QueuedOperationsCompleteInAnyWaitOrder) {
  auto group = testing::worldGroup();
  std::vector<torch::Tensor> tensors;
  std::vector<WorkPtr> works;
  for (std::int64_t numel : {5, 70000, 3, 1000}) {
    tensors.push_back(contribution(group->rank(), numel, torch::kFloat));
    works.push_back(group->allReduce(tensors.back(), ReduceOp::kAvg));
  }
  for (std::size_t i = works.size(); i-- > 0;) {
    works[i]->wait();
    EXPECT_TRUE(works[i]->isCompleted());
    EXPECT_TRUE(torch::equal(tensors[i], expectedReduction(group->size(), tensors[i].numel(),
                                                           ReduceOp::kAvg, torch::kFloat)));
  }
}

TEST(MpiProcessGroup, AllReduceRejectsAvgOfIntegers) {
  auto group = testing::worldGroup();
  EXPECT_THROW(group->allReduce(torch::ones({3}, torch::kLong), ReduceOp::kAvg), Error);
  EXPECT_THROW(group->allReduce(torch::ones({3}, torch::kBool)), Error);
}

TEST(MpiProcessGroup, BroadcastFromEveryRoot) {
  auto group = testing::worldGroup();
  for (int root = 0; root < group->size(); ++root) {
    for (torch::ScalarType type : {torch::kFloat, torch::kHalf, torch::kBFloat16, torch::kLong,
                                   torch::kByte, torch::kBool}) {
      torch::Tensor t = rowsOf(group->rank(), 3, 4, torch::kLong).remainder(2 + root).to(type);
      group->broadcast(t, root)->wait();
      EXPECT_TRUE(torch::equal(t, rowsOf(root, 3, 4, torch::kLong).remainder(2 + root).to(type)))
          << "root " << root << " " << c10::toString(type);
    }
    torch::Tensor empty = torch::empty({0, 4});
    group->broadcast(empty, root)->wait();
    EXPECT_EQ(empty.numel(), 0);
  }
  EXPECT_THROW(group->broadcast(torch::ones({1}), group->size()), Error);
}

TEST(MpiProcessGroup, BarrierCompletesOnEveryRank) {
  auto group = testing::worldGroup();
  WorkPtr work = group->barrier();
  work->wait();
  EXPECT_TRUE(work->isCompleted());
}

TEST(MpiProcessGroup, AllGatherStacksEveryRanksTensor) {
  auto group = testing::worldGroup();
  for (torch::ScalarType type : kFloatTypes) {
    RankRows out = group->allGather(rowsOf(group->rank(), 2, 3, type))->result();
    ASSERT_EQ(out.tensor.sizes(), (std::vector<std::int64_t>{group->size(), 2, 3}));
    for (int r = 0; r < group->size(); ++r) {
      EXPECT_TRUE(torch::equal(out.tensor[r], rowsOf(r, 2, 3, type))) << "rank " << r;
    }
  }
  RankRows empty = group->allGather(torch::empty({0}))->result();
  EXPECT_EQ(empty.tensor.sizes(), (std::vector<std::int64_t>{group->size(), 0}));
}

TEST(MpiProcessGroup, AllGatherVWithUnevenAndEmptyContributions) {
  auto group = testing::worldGroup();
  for (torch::ScalarType type : {torch::kFloat, torch::kHalf, torch::kBFloat16, torch::kLong,
                                 torch::kDouble, torch::kByte}) {
    // Rank r contributes r rows: rank 0 none.
    RankRows out = group->allGatherV(rowsOf(group->rank(), group->rank(), 3, type))->result();
    std::int64_t offset = 0;
    ASSERT_EQ(out.counts.size(), static_cast<std::size_t>(group->size()));
    for (int r = 0; r < group->size(); ++r) {
      EXPECT_EQ(out.counts[r], r);
      EXPECT_TRUE(torch::equal(out.tensor.narrow(0, offset, r), rowsOf(r, r, 3, type)))
          << "rank " << r << " " << c10::toString(type);
      offset += r;
    }
    EXPECT_EQ(out.tensor.size(0), offset);
  }
  RankRows none = group->allGatherV(torch::empty({0, 2, 2}))->result();
  EXPECT_EQ(none.tensor.sizes(), (std::vector<std::int64_t>{0, 2, 2}));
}

TEST(MpiProcessGroup, AllToAllVWithUnevenAndEmptyBlocks) {
  auto group = testing::worldGroup();
  const int n = group->size();
  const int me = group->rank();
  // Rank s sends (s + 2 d) % 3 rows to rank d, some of them none; row values encode (s, d).
  auto rowsFor = [](int s, int d, torch::ScalarType type) {
    return (rowsOf(s, (s + 2 * d) % 3, 2, torch::kLong) + 10 * d).to(type);
  };
  for (torch::ScalarType type : {torch::kFloat, torch::kBFloat16, torch::kLong}) {
    std::vector<torch::Tensor> blocks;
    std::vector<std::int64_t> counts;
    for (int d = 0; d < n; ++d) {
      blocks.push_back(rowsFor(me, d, type));
      counts.push_back(blocks.back().size(0));
    }
    RankRows out = group->allToAllV(torch::cat(blocks), counts)->result();
    std::int64_t offset = 0;
    for (int s = 0; s < n; ++s) {
      torch::Tensor expected = rowsFor(s, me, type);
      EXPECT_EQ(out.counts[s], expected.size(0));
      EXPECT_TRUE(torch::equal(out.tensor.narrow(0, offset, expected.size(0)), expected))
          << "from rank " << s << " " << c10::toString(type);
      offset += expected.size(0);
    }
    EXPECT_EQ(out.tensor.size(0), offset);
  }
  EXPECT_THROW(group->allToAllV(torch::ones({2, 2}), std::vector<std::int64_t>(n, 5)), Error);
}

TEST(MpiProcessGroup, RanksThatDisagreeOnRowWidthAllGetCommError) {
  auto group = testing::worldGroup();
  // Rank 1 sends rows of 4 elements, the others rows of 3: every rank must throw, none hang.
  torch::Tensor rows = torch::zeros({2, group->rank() == 1 ? 4 : 3});
  try {
    group->allGatherV(rows)->wait();
    ADD_FAILURE() << "no error";
  } catch (const CommError& e) {
    EXPECT_EQ(e.rank(), group->rank());
    EXPECT_EQ(e.operation(), "allGatherV");
  }
}

TEST(MpiCheck, FailedCallThrowsCommErrorWithRankAndFunction) {
  int value = 0;
  try {
    KGREC_MPI_CHECK(MPI_Bcast(&value, 1, MPI_INT, /*root=*/-5, MPI_COMM_WORLD));
    ADD_FAILURE() << "no error";
  } catch (const CommError& e) {
    EXPECT_EQ(e.rank(), worldRank());
    EXPECT_EQ(e.operation(), "MPI_Bcast");
    EXPECT_NE(std::string(e.what()).find("MPI_ERR_ROOT"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kgrec
