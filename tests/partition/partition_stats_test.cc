// Partition measures and node order on hand-drawn graphs with hand-computed answers.

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "engine/common/random.h"
#include "engine/graph/dataset_builder.h"
#include "partition/node_order.h"
#include "partition/partition_stats.h"

namespace kgrec {
namespace {

// Global ids: u0=0 u1=1 | i0=2 i1=3 i2=4 | e0=5 e1=6.
//
//   u0 - i0        u1 - i2
//    \                 |
//     i1 ---- e0 ---- -+       (i1 -genre-> e0, i2 -genre-> e0; e1 alone)
//
// Part 0 = {u0, i0}; part 1 = {u1, i1, i2, e0, e1}. Only u0 - i1 crosses.
Dataset smallGraph() {
  DatasetBuilder b("small");
  b.ensureNodes(NodeType::kUser, 2);
  b.ensureNodes(NodeType::kItem, 3);
  b.ensureNodes(NodeType::kEntity, 2);
  b.addInteraction(Split::kTrain, 0, 0);
  b.addInteraction(Split::kTrain, 0, 1);
  b.addInteraction(Split::kTrain, 1, 2);
  const std::int32_t genre = b.relation("genre");
  b.addTriple({NodeType::kItem, 1}, genre, {NodeType::kEntity, 0});
  b.addTriple({NodeType::kItem, 2}, genre, {NodeType::kEntity, 0});
  return b.build();
}
const std::vector<std::int32_t> kSmallParts = {0, 1, 0, 1, 1, 1, 1};

TEST(PartitionStats, HandComputedCutBalanceAndHalo) {
  const Dataset d = smallGraph();
  const PartitionStats s = computePartitionStats(d, kSmallParts, 2);
  EXPECT_EQ(s.num_edges, 10);
  EXPECT_EQ(s.edge_cut, 1);
  EXPECT_DOUBLE_EQ(s.edge_cut_fraction, 0.2);
  EXPECT_EQ(s.nodes, (std::vector<std::int64_t>{2, 5}));
  EXPECT_EQ(s.edges, (std::vector<std::int64_t>{3, 7}));
  EXPECT_EQ(s.train_edges, (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(s.halo_nodes, (std::vector<std::int64_t>{1, 1}));  // {i1} and {u0}
  EXPECT_DOUBLE_EQ(s.node_balance, 5.0 / 3.5);
  EXPECT_DOUBLE_EQ(s.train_edge_balance, 2.0 / 1.5);
}

TEST(PartitionStats, ComponentsCountIsolatedNodes) {
  const ComponentStats c = graphComponents(smallGraph().graph);
  EXPECT_EQ(c.count, 2);
  EXPECT_EQ(c.largest, 6);
  EXPECT_EQ(c.isolated, 1);
}

SamplingPlan fullPlan(std::vector<int> fanouts, std::int64_t batch_size) {
  SamplingPlan plan;
  plan.fanouts = std::move(fanouts);
  plan.batch_size = batch_size;
  plan.negatives = false;
  return plan;
}

TEST(PartitionStats, EpochFetchCountsRemoteNodesWithinSampledHops) {
  const Dataset d = smallGraph();
  // Fanouts above every degree take whole neighbourhoods. Part 0's seeds are u0 and its
  // positives i0, i1: i1 is remote at hop 0, e0 at hop 1 (via i1), i2 at hop 2 (via e0).
  EXPECT_EQ(estimateEpochFetch(d, kSmallParts, 0, fullPlan({}, 100)).remote_nodes, 1);
  EXPECT_EQ(estimateEpochFetch(d, kSmallParts, 0, fullPlan({10}, 100)).remote_nodes, 2);
  const FetchEstimate two = estimateEpochFetch(d, kSmallParts, 0, fullPlan({10, 10}, 100));
  EXPECT_EQ(two.batches, 1);
  EXPECT_EQ(two.sampled_nodes, 5);
  EXPECT_EQ(two.remote_nodes, 3);
  EXPECT_EQ(two.bytes, 3 * 64 * 4);
  // One interaction per batch, no cache between batches: (u0, i0) reaches i1, e0 remotely;
  // (u0, i1) reaches i1, e0, i2.
  const FetchEstimate single = estimateEpochFetch(d, kSmallParts, 0, fullPlan({10, 10}, 1));
  EXPECT_EQ(single.batches, 2);
  EXPECT_EQ(single.remote_nodes, 5);
  // Simulating one of the two batches and doubling gives 2 * 2 or 2 * 3.
  SamplingPlan one = fullPlan({10, 10}, 1);
  one.max_batches = 1;
  const FetchEstimate half = estimateEpochFetch(d, kSmallParts, 0, one);
  EXPECT_EQ(half.batches, 2);
  EXPECT_EQ(half.simulated_batches, 1);
  EXPECT_TRUE(half.remote_nodes == 4 || half.remote_nodes == 6) << half.remote_nodes;
  // Part 1 (u1, i2) reaches e0 and i1, all its own.
  EXPECT_EQ(estimateEpochFetch(d, kSmallParts, 1, fullPlan({10, 10}, 100)).remote_nodes, 0);
}

TEST(PartitionStats, EpochFetchWithNegativesIsSeeded) {
  const Dataset d = smallGraph();
  SamplingPlan plan;
  plan.fanouts = {1, 1};
  plan.batch_size = 1;
  const FetchEstimate a = estimateEpochFetch(d, kSmallParts, 0, plan);
  const FetchEstimate b = estimateEpochFetch(d, kSmallParts, 0, plan);
  EXPECT_EQ(a.remote_nodes, b.remote_nodes);
  EXPECT_EQ(a.sampled_nodes, b.sampled_nodes);
  EXPECT_GE(a.sampled_nodes, 2 * 2);  // at least u0 and a positive per batch
}

TEST(PartitionStats, BalanceIsMaxOverMean) {
  EXPECT_DOUBLE_EQ(balance({1, 1, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(balance({4, 0}), 2.0);
  EXPECT_DOUBLE_EQ(balance({0, 0}), 1.0);
}

// A path of 12 entities whose ids are shuffled: reverse Cuthill-McKee must lay it out so
// that every neighbour is one position away.
TEST(NodeOrder, ReverseCuthillMcKeeStraightensAShuffledPath) {
  constexpr int kLength = 12;
  std::vector<std::int64_t> label(kLength);
  std::iota(label.begin(), label.end(), 0);
  SplitMix64 rng(5);
  for (std::size_t i = label.size(); i > 1; --i) std::swap(label[i - 1], label[rng.below(i)]);
  DatasetBuilder b("path");
  b.ensureNodes(NodeType::kUser, 1);
  b.ensureNodes(NodeType::kItem, 1);
  b.ensureNodes(NodeType::kEntity, kLength);
  const std::int32_t next = b.relation("next");
  for (int k = 0; k + 1 < kLength; ++k) {
    b.addTriple({NodeType::kEntity, label[k]}, next, {NodeType::kEntity, label[k + 1]});
  }
  const Dataset d = b.build();
  const std::vector<std::int32_t> part_of(d.nodes.numNodes(), 0);
  const auto owned = orderOwnedNodes(d.graph, part_of, 1);
  ASSERT_EQ(owned.size(), 1u);
  std::vector<std::int32_t> sorted = owned[0];
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int32_t> all(d.nodes.numNodes());
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(sorted, all);  // a permutation of the nodes

  std::vector<std::int32_t> scratch;
  EXPECT_DOUBLE_EQ(meanNeighbourDistance(d.graph, owned[0], &scratch), 1.0);
  EXPECT_GT(meanNeighbourDistance(d.graph, all, &scratch), 1.0);
}

}  // namespace
}  // namespace kgrec
