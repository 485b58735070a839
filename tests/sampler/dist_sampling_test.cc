// Runs under mpirun (main() from tests/comm/comm_test_main.cc): every rank samples its own
// part of a deliberately uneven partition, and the ranks must agree on one step count.

#include <gtest/gtest.h>

#include <algorithm>

#include "engine/graph/synthetic.h"
#include "partition/node_order.h"
#include "sampler/batch_pipeline.h"
#include "sampler/dist/dist_sampling.h"
#include "tests/comm/comm_testing.h"

namespace kgrec {
namespace {

TEST(DistSampling, AgreesOnTheMinimumOfUnevenCounts) {
  ProcessGroup& group = *testing::worldGroup();
  auto countOf = [&](int rank) { return 3 * (group.size() - rank) + rank % 2; };
  std::int64_t expected = countOf(0);
  for (int r = 1; r < group.size(); ++r) expected = std::min<std::int64_t>(expected, countOf(r));
  EXPECT_EQ(agreeOnStepsPerEpoch(group, countOf(group.rank())), expected);
}

TEST(DistSampling, UnevenPartsRunTheSameNumberOfSteps) {
  ProcessGroup& group = *testing::worldGroup();
  const int parts = group.size();
  SyntheticOptions so;
  so.users = 80;
  so.items = 50;
  so.entities = 10;
  so.communities = 2;
  so.interactions_per_user = 6.0;
  const Dataset dataset = generateSynthetic(so);  // the same on every rank
  // Part 0 gets 70% of the users (and so of the training seeds), the others share the rest.
  std::vector<std::int32_t> part_of(dataset.nodes.numNodes());
  for (std::int64_t v = 0; v < dataset.nodes.numNodes(); ++v) {
    const bool user = v < dataset.nodes.num_users;
    part_of[v] = user && v < dataset.nodes.num_users * 7 / 10
                     ? 0
                     : static_cast<std::int32_t>(1 + v % (parts - 1));
  }
  const PartitionBook book = PartitionBook::fromOwnedNodes(
      dataset.nodes.numNodes(), orderOwnedNodes(dataset.graph, part_of, parts));
  const Shard shard = buildShard(dataset, book, group.rank(), nullptr);

  const GraphStats stats = gatherGraphStats(group, shard, book);
  const GraphStats expected_stats = graphStats(dataset);
  EXPECT_EQ(stats.degree, expected_stats.degree);
  EXPECT_EQ(stats.item_interactions, expected_stats.item_interactions);

  SamplerOptions o;
  o.fanouts = {3, 2};
  o.batch_size = 16;
  const NeighborSampler sampler(shard, book, stats, o);
  const std::int64_t steps = agreeOnStepsPerEpoch(group, sampler.stepsPerEpoch());
  EXPECT_LE(steps, sampler.stepsPerEpoch());
  if (group.rank() == 0) {
    EXPECT_GT(sampler.stepsPerEpoch(), steps) << "the parts are not uneven";
  }

  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    BatchPipeline pipeline(sampler, epoch, steps, 2, 4);
    MiniBatch batch;
    std::int64_t taken = 0;
    while (pipeline.next(&batch)) {
      // Stands in for the gradient all-reduce: an uneven step count would hang here.
      torch::Tensor grad = torch::ones({1}, torch::kInt64);
      group.allReduce(grad)->wait();
      EXPECT_EQ(grad.item<std::int64_t>(), group.size());
      ++taken;
    }
    EXPECT_EQ(taken, steps);
  }
}

}  // namespace
}  // namespace kgrec
