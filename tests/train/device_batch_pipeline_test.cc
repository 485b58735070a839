// The training step's input pipeline: the batches of BatchPipeline in step order, their blocks
// the tensors BlockTensors::from builds, on the training device; early stops and errors. The
// case named *Gpu* needs a visible CUDA device and skips without one.

#include <gtest/gtest.h>

#include <memory>

#include <torch/cuda.h>

#include "engine/common/error.h"
#include "engine/graph/synthetic.h"
#include "engine/train/device_batch_pipeline.h"
#include "partition/node_order.h"
#include "partition/partitioner.h"
#include "partition/shard.h"

namespace kgrec {
namespace {

// One part of a small synthetic graph and a sampler over it.
struct OnePart {
  OnePart() {
    SyntheticOptions s;
    s.users = 120;
    s.items = 80;
    s.entities = 30;
    s.seed = 5;
    dataset = generateSynthetic(s);
    stats = graphStats(dataset);
    const PartAssignment one = assignParts(dataset, 1, PartitionMethod::kRandom, 3);
    book = PartitionBook::fromOwnedNodes(dataset.nodes.numNodes(),
                                         orderOwnedNodes(dataset.graph, one.part_of, 1));
    shard = buildShard(dataset, book, 0, nullptr);
    SamplerOptions o;
    o.fanouts = {4, 3};
    o.batch_size = 64;
    o.seed = 9;
    sampler = std::make_unique<NeighborSampler>(shard, book, stats, o);
  }
  Dataset dataset;
  GraphStats stats;
  PartitionBook book;
  Shard shard;
  std::unique_ptr<NeighborSampler> sampler;
};

// Every tensor of `got` (on any device) equals the one of `want` (on the CPU).
void expectSameBlockTensors(BlockTensors got, BlockTensors want) {
  EXPECT_EQ(got.num_dst, want.num_dst);
  EXPECT_EQ(got.num_src, want.num_src);
  const std::vector<torch::Tensor*> g = got.tensors(), w = want.tensors();
  ASSERT_EQ(g.size(), w.size());
  for (std::size_t i = 0; i < g.size(); ++i) {
    EXPECT_TRUE(torch::equal(g[i]->cpu(), *w[i])) << "tensor " << i;
  }
}

// Takes every batch of `epoch` from a pipeline onto `device` and checks each against the
// sampler's own batch and blocks.
void expectTheSamplersBatches(const OnePart& p, torch::Device device, int threads) {
  const std::int64_t steps = p.sampler->stepsPerEpoch();
  ASSERT_GE(steps, 4);
  DeviceBatchPipeline pipeline(*p.sampler, 1, steps, threads, 2, 0, device);
  DeviceBatch got;
  for (std::int64_t s = 0; s < steps; ++s) {
    ASSERT_TRUE(pipeline.next(&got)) << "step " << s;
    const MiniBatch want = p.sampler->sample(1, s);
    EXPECT_EQ(got.batch.step, s);
    EXPECT_EQ(got.batch.input_nodes, want.input_nodes);
    EXPECT_EQ(got.batch.users, want.users);
    ASSERT_EQ(got.blocks.size(), want.blocks.size());
    for (std::size_t l = 0; l < want.blocks.size(); ++l) {
      for (torch::Tensor* t : got.blocks[l].tensors()) EXPECT_EQ(t->device(), device);
      expectSameBlockTensors(got.blocks[l], BlockTensors::from(want.blocks[l], torch::kCPU));
    }
  }
  EXPECT_FALSE(pipeline.next(&got));
  EXPECT_FALSE(pipeline.next(&got));
}

TEST(DeviceBatchPipeline, HandsOutTheSamplersBatchesInStepOrderWithTheirBlocks) {
  const OnePart p;
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    expectTheSamplersBatches(p, torch::kCPU, threads);
  }
}

TEST(DeviceBatchPipeline, StartsInsideAnEpochAndStopsEarly) {
  const OnePart p;
  const std::int64_t steps = p.sampler->stepsPerEpoch();
  DeviceBatchPipeline resumed(*p.sampler, 0, steps, 2, 1, steps - 2, torch::kCPU);
  DeviceBatch b;
  ASSERT_TRUE(resumed.next(&b));
  EXPECT_EQ(b.batch.step, steps - 2);
  // Destroyed with batches staged and being sampled: both stages stop and join.
  DeviceBatchPipeline abandoned(*p.sampler, 0, steps, 2, 1, 0, torch::kCPU);
  ASSERT_TRUE(abandoned.next(&b));
  EXPECT_GE(abandoned.waitSeconds(), 0.0);
}

TEST(DeviceBatchPipeline, RethrowsASamplingError) {
  const OnePart p;
  // A negative epoch passes the pipeline's checks but makes every sample() throw.
  DeviceBatchPipeline pipeline(*p.sampler, -1, p.sampler->stepsPerEpoch(), 2, 2, 0,
                               torch::kCPU);
  DeviceBatch b;
  EXPECT_THROW(pipeline.next(&b), Error);
  EXPECT_THROW(pipeline.next(&b), Error);
}

// On a GPU the blocks cross from pinned memory on the copy stream: the same values arrive.
TEST(DeviceBatchPipeline, GpuBlocksEqualTheHostBlocks) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device is visible";
  const OnePart p;
  expectTheSamplersBatches(p, torch::Device(torch::kCUDA, 0), 2);
}

}  // namespace
}  // namespace kgrec
