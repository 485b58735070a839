// Runs under mpirun (main() from tests/comm/comm_test_main.cc): every rank samples its own
// part of a deliberately uneven partition; the ranks run the same number of steps, and with
// the over-comm/ neighbour source they draw exactly what a single process draws.

#include <gtest/gtest.h>

#include <algorithm>

#include "engine/graph/synthetic.h"
#include "partition/node_order.h"
#include "comm/mpi/mpi_process_group.h"
#include "engine/common/random.h"
#include "sampler/batch_pipeline.h"
#include "sampler/dist/dist_sampling.h"
#include "tests/comm/comm_testing.h"

namespace kgrec {
namespace {

TEST(DistSampling, UnevenPartsRunTheSameStepsAndDrawWhatOneProcessDraws) {
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
  EXPECT_EQ(stats.num_train, expected_stats.num_train);
  if (group.rank() == 0) {
    EXPECT_GT(shard.train.size() * 10, dataset.train.size() * 6) << "the parts are not uneven";
  }

  SamplerOptions o;
  o.fanouts = {3, 2};
  o.batch_size = 16;
  // What one process holding the whole graph draws.
  const PartitionBook whole_book = PartitionBook::fromOwnedNodes(
      dataset.nodes.numNodes(),
      orderOwnedNodes(dataset.graph, std::vector<std::int32_t>(dataset.nodes.numNodes(), 0), 1));
  const Shard whole = buildShard(dataset, whole_book, 0, nullptr);
  const NeighborSampler single(whole, whole_book, expected_stats, o);

  // One lane, and three lanes sampling at once; sampling collectives go over groups of their
  // own, as in training.
  for (int lanes : {1, 3}) {
    SCOPED_TRACE(::testing::Message() << lanes << " lanes");
    std::vector<std::shared_ptr<ProcessGroup>> groups;
    for (int l = 0; l < lanes; ++l) groups.push_back(std::make_shared<MpiProcessGroup>());
    CommNeighborSource remote(groups, book);
    const NeighborSampler sampler(shard, book, stats, o, &remote);
    remote.setOwner(&sampler);
    ASSERT_EQ(sampler.stepsPerEpoch(), single.stepsPerEpoch());

    bool any_remote = false;
    for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
      // Two threads asked for: one worker per lane instead, each building its lane's steps.
      BatchPipeline pipeline(sampler, epoch, sampler.stepsPerEpoch(), 2, 4);
      MiniBatch batch;
      std::int64_t taken = 0, seeds = 0;
      while (pipeline.next(&batch)) {
        const std::uint64_t stream = mixSeed(o.seed, static_cast<std::uint64_t>(epoch),
                                             static_cast<std::uint64_t>(batch.step));
        for (std::size_t l = 0; l < batch.blocks.size(); ++l) {
          const Block& block = batch.blocks[l];
          const SampledNeighbors expected = single.sampleOwnedNeighbors(
              block.dst_nodes, stream, static_cast<std::int64_t>(batch.blocks.size() - 1 - l));
          for (std::size_t i = 0; i < block.dst_nodes.size(); ++i) {
            any_remote |= book.partOf(block.dst_nodes[i]) != group.rank() &&
                          block.indptr[i + 1] > block.indptr[i];
            ASSERT_EQ(block.indptr[i + 1] - block.indptr[i],
                      expected.indptr[i + 1] - expected.indptr[i]);
            for (std::int64_t e = 0; e < block.indptr[i + 1] - block.indptr[i]; ++e) {
              EXPECT_EQ(block.src_nodes[block.indices[block.indptr[i] + e]],
                        expected.sources[expected.indptr[i] + e]);
              EXPECT_EQ(block.relations[block.indptr[i] + e],
                        expected.relations[expected.indptr[i] + e]);
            }
          }
        }
        // Stands in for the gradient all-reduce: an uneven step count would hang here.
        torch::Tensor count = torch::full({1}, static_cast<std::int64_t>(batch.users.size()));
        group.allReduce(count)->wait();
        EXPECT_EQ(count.item<std::int64_t>(), single.sample(epoch, batch.step).users.size());
        seeds += static_cast<std::int64_t>(batch.users.size());
        ++taken;
      }
      EXPECT_EQ(taken, sampler.stepsPerEpoch());
      EXPECT_EQ(seeds, static_cast<std::int64_t>(shard.train.size()));
    }
    EXPECT_TRUE(any_remote);
    EXPECT_GT(remote.bytesSent(), 0);
  }
}

}  // namespace
}  // namespace kgrec
