// Per-rank sampling throughput (issue #6), on part 0 of a METIS 2-way partition:
//  - sampled edges/s on one thread, local + halo and with neighbours of remote nodes drawn by
//    their owners (in process: the sampling cost of that mode, without its network time);
//  - batches/s through BatchPipeline with 1, 2 and all hardware threads;
//  - how often a training step that takes a fixed time waits on the queue.
//
//   sampler_bench [--steps N] [--gowalla DIR]   synthetic, then gowalla's train.txt/test.txt
//                                               (default ../shared/datasets/gowalla) if present

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "engine/graph/synthetic.h"
#include "engine/prepare/importers.h"
#include "partition/node_order.h"
#include "partition/partitioner.h"
#include "sampler/batch_pipeline.h"
#include "sampler/neighbor_sampler.h"

namespace kgrec {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::int64_t edgesOf(const MiniBatch& batch) {
  std::int64_t edges = 0;
  for (const Block& block : batch.blocks) edges += block.numEdges();
  return edges;
}

void run(const std::string& name, const Dataset& dataset, std::int64_t max_steps) {
  constexpr std::int64_t kParts = 2;
  const GraphStats stats = graphStats(dataset);
  const PartAssignment assignment = assignParts(dataset, kParts, PartitionMethod::kMetis, 1);
  const PartitionBook book = PartitionBook::fromOwnedNodes(
      dataset.nodes.numNodes(), orderOwnedNodes(dataset.graph, assignment.part_of, kParts));
  const Shard shard0 = buildShard(dataset, book, 0, nullptr);
  const Shard shard1 = buildShard(dataset, book, 1, nullptr);

  SamplerOptions options;
  options.fanouts = {10, 5};
  options.batch_size = 1024;
  const NeighborSampler sampler(shard0, book, stats, options);
  const NeighborSampler owner1(shard1, book, stats, options);
  const InProcessNeighborSource remote(book, {&sampler, &owner1});
  const NeighborSampler full(shard0, book, stats, options, &remote);
  const std::int64_t steps = std::min(max_steps, sampler.stepsPerEpoch());
  std::printf("%s: %lld nodes, %lld edges, part 0: %lld owned + %lld halo, %zu seeds, "
              "%lld steps/epoch (measured %lld), fanouts 10,5, batch 1024\n",
              name.c_str(), static_cast<long long>(dataset.nodes.numNodes()),
              static_cast<long long>(dataset.graph.numEdges()),
              static_cast<long long>(shard0.num_owned), static_cast<long long>(shard0.numHalo()),
              shard0.train.size(), static_cast<long long>(sampler.stepsPerEpoch()),
              static_cast<long long>(steps));

  using Mode = std::pair<const char*, const NeighborSampler*>;
  for (const auto& [mode, s] : {Mode{"local+halo", &sampler}, Mode{"remote-by-owner", &full}}) {
    std::int64_t edges = 0, inputs = 0;
    const auto start = Clock::now();
    for (std::int64_t step = 0; step < steps; ++step) {
      const MiniBatch batch = s->sample(0, step);
      edges += edgesOf(batch);
      inputs += static_cast<std::int64_t>(batch.input_nodes.size());
    }
    const double seconds = secondsSince(start);
    std::printf("  1 thread, %-15s  %8.0f edges/s  %6.1f batches/s  %7.0f edges/batch  "
                "%7.0f input nodes/batch\n",
                mode, edges / seconds, steps / seconds, double(edges) / steps,
                double(inputs) / steps);
  }

  const int all = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<int> thread_counts = {1, 2};
  if (all > 2) thread_counts.push_back(all);
  double batch_seconds = 0.0;  // one thread's time per batch, for the step-time simulation
  for (int threads : thread_counts) {
    BatchPipeline pipeline(sampler, 1, steps, threads, 2 * threads);
    MiniBatch batch;
    std::int64_t edges = 0;
    const auto start = Clock::now();
    while (pipeline.next(&batch)) edges += edgesOf(batch);
    const double seconds = secondsSince(start);
    if (threads == 1) batch_seconds = seconds / steps;
    std::printf("  pipeline %2d threads  %6.1f batches/s  %8.0f edges/s per thread\n", threads,
                steps / seconds, edges / seconds / threads);
  }

  // A consumer whose step takes a fixed time: with threads * step time > one thread's batch
  // time, the queue should stay ahead and next() should wait only for the first batch.
  for (const double step_factor : {0.5, 1.5}) {
    const auto step_time = std::chrono::duration<double>(batch_seconds * step_factor);
    for (int threads : thread_counts) {
      BatchPipeline pipeline(sampler, 2, steps, threads, 2 * threads);
      MiniBatch batch;
      while (pipeline.next(&batch)) std::this_thread::sleep_for(step_time);
      std::printf("  step = %.1f x batch time (%.1f ms), %2d threads: waited %lld of %lld steps, "
                  "%.3f s\n",
                  step_factor, step_time.count() * 1e3, threads,
                  static_cast<long long>(pipeline.waitCount()), static_cast<long long>(steps),
                  pipeline.waitSeconds());
    }
  }
}

}  // namespace
}  // namespace kgrec

int main(int argc, char** argv) {
  std::int64_t max_steps = 100;
  std::string gowalla = std::string(KGREC_SHARED_DIR) + "/datasets/gowalla";
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--steps") == 0) max_steps = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--gowalla") == 0) gowalla = argv[i + 1];
  }
  try {
    kgrec::SyntheticOptions synthetic;
    synthetic.users = 20000;
    synthetic.items = 10000;
    synthetic.entities = 4000;
    kgrec::run("synthetic", kgrec::generateSynthetic(synthetic), max_steps);
    if (std::filesystem::exists(gowalla + "/train.txt")) {
      kgrec::ImportOptions o;
      o.train = gowalla + "/train.txt";
      o.test = gowalla + "/test.txt";
      kgrec::run("gowalla", kgrec::importDataset(o), max_steps);
    } else {
      std::printf("gowalla: %s not found, skipped\n", gowalla.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sampler_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
