#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "engine/common/error.h"
#include "engine/common/random.h"
#include "engine/graph/dataset_builder.h"
#include "partition/node_order.h"
#include "partition/partitioner.h"
#include "sampler/batch_pipeline.h"
#include "sampler/kg_triple_sampler.h"
#include "sampler/neighbor_sampler.h"

namespace kgrec {
namespace {

// 6 users, 8 items, 3 entities, 2 KG relations, drawn by hand so that degrees vary (item 1:
// three users and a KG edge) and every relation id 0..5 occurs.
Dataset tinyDataset() {
  DatasetBuilder b("tiny");
  const std::vector<std::vector<std::int64_t>> items_of = {
      {0, 1, 2}, {1, 3}, {2, 3, 4, 5}, {0, 5, 6}, {6, 7}, {1, 4, 7}};
  for (std::size_t u = 0; u < items_of.size(); ++u) {
    for (std::int64_t i : items_of[u]) b.addInteraction(Split::kTrain, u, i);
  }
  b.addInteraction(Split::kTest, 0, 4);
  b.addInteraction(Split::kTest, 4, 0);
  const std::int32_t r0 = b.relation("r0"), r1 = b.relation("r1");
  auto item = [](std::int64_t i) { return NodeRef{NodeType::kItem, i}; };
  auto entity = [](std::int64_t e) { return NodeRef{NodeType::kEntity, e}; };
  b.addTriple(item(0), r0, entity(0));
  b.addTriple(item(1), r0, entity(0));
  b.addTriple(item(2), r1, entity(1));
  b.addTriple(item(3), r0, entity(1));
  b.addTriple(item(5), r1, entity(2));
  b.addTriple(item(7), r1, entity(2));
  b.addTriple(entity(0), r0, entity(2));
  return b.build();
}

struct Partitioned {
  Dataset dataset;
  GraphStats stats;
  PartitionBook book;
  std::vector<Shard> shards;
};

Partitioned partitioned(std::int64_t parts) {
  Partitioned p;
  p.dataset = tinyDataset();
  p.stats = graphStats(p.dataset);
  const PartAssignment assignment = assignParts(p.dataset, parts, PartitionMethod::kRandom, 3);
  p.book = PartitionBook::fromOwnedNodes(
      p.dataset.nodes.numNodes(), orderOwnedNodes(p.dataset.graph, assignment.part_of, parts));
  for (std::int32_t part = 0; part < parts; ++part) {
    p.shards.push_back(buildShard(p.dataset, p.book, part, nullptr));
  }
  return p;
}

SamplerOptions smallOptions() {
  SamplerOptions o;
  o.fanouts = {2, 2};
  o.batch_size = 4;
  o.negatives = 2;
  o.seed = 11;
  return o;
}

bool sameBlock(const Block& a, const Block& b) {
  return a.dst_nodes == b.dst_nodes && a.src_nodes == b.src_nodes && a.indptr == b.indptr &&
         a.indices == b.indices && a.relations == b.relations && a.edge_weight == b.edge_weight;
}

bool sameBatch(const MiniBatch& a, const MiniBatch& b) {
  if (a.epoch != b.epoch || a.step != b.step || a.users != b.users ||
      a.positives != b.positives || a.negatives != b.negatives ||
      a.input_nodes != b.input_nodes || a.blocks.size() != b.blocks.size()) {
    return false;
  }
  for (std::size_t l = 0; l < a.blocks.size(); ++l) {
    if (!sameBlock(a.blocks[l], b.blocks[l])) return false;
  }
  return true;
}

// Edges (source, relation) of `dst` drawn in `block`.
std::vector<std::pair<std::int64_t, std::int32_t>> edgesOf(const Block& block, std::size_t dst) {
  std::vector<std::pair<std::int64_t, std::int32_t>> edges;
  for (std::int64_t e = block.indptr[dst]; e < block.indptr[dst + 1]; ++e) {
    edges.emplace_back(block.src_nodes[block.indices[e]], block.relations[e]);
  }
  return edges;
}

// Checks a batch against the full dataset: layout, real edges, fanout bounds, weights.
void checkBatch(const MiniBatch& batch, const Partitioned& p, const Shard& shard,
                const SamplerOptions& o, bool remote) {
  const Csr& graph = p.dataset.graph;
  const auto layers = o.fanouts.size();
  ASSERT_EQ(batch.blocks.size(), layers);
  EXPECT_EQ(batch.input_nodes, batch.blocks.front().src_nodes);
  for (auto [seeds, rows] : {std::pair{&batch.users, &batch.user_rows},
                             std::pair{&batch.positives, &batch.positive_rows},
                             std::pair{&batch.negatives, &batch.negative_rows}}) {
    ASSERT_EQ(seeds->size(), rows->size());
    for (std::size_t i = 0; i < seeds->size(); ++i) {
      EXPECT_EQ(batch.blocks.back().dst_nodes.at((*rows)[i]), (*seeds)[i]);
    }
  }
  for (std::size_t l = 0; l < layers; ++l) {
    const Block& block = batch.blocks[l];
    const std::size_t hop = layers - 1 - l;
    ASSERT_EQ(block.indptr.size(), block.dst_nodes.size() + 1);
    ASSERT_GE(block.src_nodes.size(), block.dst_nodes.size());
    EXPECT_TRUE(
        std::equal(block.dst_nodes.begin(), block.dst_nodes.end(), block.src_nodes.begin()));
    // Block l's destinations are the sources of the block after it (towards the seeds).
    if (l + 1 < layers) {
      EXPECT_EQ(block.dst_nodes, batch.blocks[l + 1].src_nodes);
    }
    std::set<std::int64_t> distinct(block.src_nodes.begin(), block.src_nodes.end());
    EXPECT_EQ(distinct.size(), block.src_nodes.size());
    for (std::size_t i = 0; i < block.dst_nodes.size(); ++i) {
      const std::int64_t dst = block.dst_nodes[i];
      const auto edges = edgesOf(block, i);
      if (!remote && p.book.partOf(dst) != shard.part) {
        EXPECT_TRUE(edges.empty()) << "non-owned node " << dst << " has sampled edges";
        continue;
      }
      std::map<std::int32_t, std::int64_t> drawn, available;
      auto groupOf = [&](std::int32_t rel) {
        for (std::size_t g = 0; g < o.relation_fanouts.size(); ++g) {
          const auto& members = o.relation_fanouts[g].relations;
          if (std::find(members.begin(), members.end(), rel) != members.end()) {
            return static_cast<std::int32_t>(g);
          }
        }
        return -1;
      };
      for (std::int64_t e = graph.indptr[dst]; e < graph.indptr[dst + 1]; ++e) {
        ++available[groupOf(graph.relations[e])];
      }
      for (const auto& [src, rel] : edges) {
        bool real = false;
        for (std::int64_t k = graph.indptr[dst]; k < graph.indptr[dst + 1]; ++k) {
          real |= graph.indices[k] == src && graph.relations[k] == rel;
        }
        EXPECT_TRUE(real) << "edge " << src << " -(" << rel << ")-> " << dst << " not in the graph";
        ++drawn[groupOf(rel)];
      }
      // LightGCN's entry scaled by the inverse inclusion rate of the edge's group.
      for (std::size_t e = 0; e < edges.size(); ++e) {
        const auto [src, rel] = edges[e];
        const std::int64_t w = block.indptr[i] + static_cast<std::int64_t>(e);
        const double degrees = static_cast<double>(graph.degree(dst)) * graph.degree(src);
        const double rate = static_cast<double>(available[groupOf(rel)]) / drawn[groupOf(rel)];
        EXPECT_FLOAT_EQ(block.edge_weight[w], static_cast<float>(rate / std::sqrt(degrees)));
      }
      if (!o.replace) {
        std::set<std::pair<std::int64_t, std::int32_t>> unique(edges.begin(), edges.end());
        EXPECT_EQ(unique.size(), edges.size()) << "duplicate neighbour without replacement";
      }
      for (const auto& [group, count] : available) {
        const std::int64_t fanout =
            group < 0 ? o.fanouts[hop] : o.relation_fanouts.at(group).fanouts[hop];
        if (o.replace) {
          EXPECT_EQ(drawn[group], fanout);
        } else {
          EXPECT_EQ(drawn[group], std::min(fanout, count));
        }
      }
    }
  }
}

TEST(NeighborSampler, OnlyRealEdgesWithinFanouts) {
  for (std::int64_t parts : {1, 2, 3}) {
    const Partitioned p = partitioned(parts);
    for (bool replace : {false, true}) {
      // No relation budgets; one relation's own; a group of relations sharing one.
      for (int budgets : {0, 1, 2}) {
        SamplerOptions o = smallOptions();
        o.replace = replace;
        if (budgets == 1) o.relation_fanouts.push_back({{kRelInteractReverse}, {1, 3}});
        if (budgets == 2) {
          o.relation_fanouts.push_back({{kgForwardRelation(0), kgReverseRelation(1)}, {2, 1}});
        }
        for (const Shard& shard : p.shards) {
          NeighborSampler sampler(shard, p.book, p.stats, o);
          for (std::int64_t epoch = 0; epoch < 3; ++epoch) {
            for (std::int64_t step = 0; step < sampler.stepsPerEpoch(); ++step) {
              checkBatch(sampler.sample(epoch, step), p, shard, o, false);
            }
          }
        }
      }
    }
  }
}

TEST(NeighborSampler, EpochCoversLocalSeedsOnceAndNegativesAreNeverPositives) {
  const Partitioned p = partitioned(2);
  std::set<std::pair<std::int64_t, std::int64_t>> positives;  // the full training set
  for (const Interaction& x : p.dataset.train) {
    positives.insert({p.dataset.nodes.globalId(NodeType::kUser, x.user),
                      p.dataset.nodes.globalId(NodeType::kItem, x.item)});
  }
  for (bool popularity : {false, true}) {
    SamplerOptions o = smallOptions();
    o.negatives = 3;
    o.popularity_negatives = popularity;
    for (const Shard& shard : p.shards) {
      NeighborSampler sampler(shard, p.book, p.stats, o);
      for (std::int64_t epoch = 0; epoch < 20; ++epoch) {
        std::multiset<std::pair<std::int64_t, std::int64_t>> seen;
        for (std::int64_t step = 0; step < sampler.stepsPerEpoch(); ++step) {
          const MiniBatch b = sampler.sample(epoch, step);
          ASSERT_EQ(b.negatives.size(), b.users.size() * 3);
          for (std::size_t i = 0; i < b.users.size(); ++i) {
            seen.insert({b.users[i], b.positives[i]});
            for (std::int64_t k = 0; k < 3; ++k) {
              const std::int64_t negative = b.negatives[i * 3 + k];
              EXPECT_EQ(p.dataset.nodes.typeOf(negative), NodeType::kItem);
              EXPECT_FALSE(positives.count({b.users[i], negative}))
                  << "negative " << negative << " is a positive of user " << b.users[i];
            }
          }
        }
        std::multiset<std::pair<std::int64_t, std::int64_t>> local;
        for (const Interaction& x : shard.train) {
          local.insert({p.dataset.nodes.globalId(NodeType::kUser, x.user),
                        p.dataset.nodes.globalId(NodeType::kItem, x.item)});
        }
        EXPECT_EQ(seen, local);
      }
    }
  }
}

// The global batch of a step (seeds and their negatives) is the same whatever the number of
// parts, and every part runs the same number of steps: what data-parallel training needs to
// follow the single-process trajectory.
TEST(NeighborSampler, GlobalBatchDoesNotDependOnTheParts) {
  using Triple = std::tuple<std::int64_t, std::int64_t, std::vector<std::int64_t>>;
  auto globalBatch = [](const Partitioned& p, const SamplerOptions& o, std::int64_t epoch,
                        std::int64_t step) {
    std::multiset<Triple> seeds;
    for (const Shard& shard : p.shards) {
      const NeighborSampler sampler(shard, p.book, p.stats, o);
      const MiniBatch b = sampler.sample(epoch, step);
      for (std::size_t i = 0; i < b.users.size(); ++i) {
        const auto k = static_cast<std::ptrdiff_t>(o.negatives);
        seeds.insert({b.users[i], b.positives[i],
                      {b.negatives.begin() + k * i, b.negatives.begin() + k * (i + 1)}});
      }
    }
    return seeds;
  };
  SamplerOptions o = smallOptions();
  o.batch_size = 3;
  const Partitioned whole = partitioned(1);
  const std::int64_t steps = NeighborSampler(whole.shards[0], whole.book, whole.stats, o)
                                 .stepsPerEpoch();
  EXPECT_EQ(steps, (static_cast<std::int64_t>(whole.dataset.train.size()) + 2) / 3);
  for (std::int64_t parts : {2, 3}) {
    const Partitioned p = partitioned(parts);
    for (const Shard& shard : p.shards) {
      EXPECT_EQ(NeighborSampler(shard, p.book, p.stats, o).stepsPerEpoch(), steps);
    }
    for (std::int64_t epoch = 0; epoch < 3; ++epoch) {
      std::size_t total = 0;
      for (std::int64_t step = 0; step < steps; ++step) {
        const auto expected = globalBatch(whole, o, epoch, step);
        EXPECT_EQ(globalBatch(p, o, epoch, step), expected) << parts << " parts, step " << step;
        total += expected.size();
      }
      EXPECT_EQ(total, whole.dataset.train.size());
    }
  }
}

TEST(NeighborSampler, ColdItemsAreNeverNegatives) {
  Partitioned p;
  p.dataset = tinyDataset();
  p.dataset.cold_items = {3, 6};  // as if held out by kgrec prepare --cold-items
  p.stats = graphStats(p.dataset);
  p.book = PartitionBook::fromOwnedNodes(
      p.dataset.nodes.numNodes(),
      orderOwnedNodes(p.dataset.graph, std::vector<std::int32_t>(p.dataset.nodes.numNodes(), 0), 1));
  const Shard shard = buildShard(p.dataset, p.book, 0, nullptr);
  const std::set<std::int64_t> cold = {p.dataset.nodes.globalId(NodeType::kItem, 3),
                                       p.dataset.nodes.globalId(NodeType::kItem, 6)};
  for (bool popularity : {false, true}) {
    SamplerOptions o = smallOptions();
    o.negatives = 4;
    o.popularity_negatives = popularity;
    const NeighborSampler sampler(shard, p.book, p.stats, o);
    std::int64_t drawn = 0;
    for (std::int64_t epoch = 0; epoch < 20; ++epoch) {
      for (std::int64_t step = 0; step < sampler.stepsPerEpoch(); ++step) {
        for (std::int64_t negative : sampler.sample(epoch, step).negatives) {
          EXPECT_FALSE(cold.count(negative)) << "cold item " << negative << " drawn as a negative";
          ++drawn;
        }
      }
    }
    EXPECT_GT(drawn, 1000);
  }
}

TEST(NeighborSampler, ReproduciblePerSeed) {
  const Partitioned p = partitioned(2);
  SamplerOptions o = smallOptions();
  NeighborSampler a(p.shards[0], p.book, p.stats, o), b(p.shards[0], p.book, p.stats, o);
  o.seed = 12;
  NeighborSampler c(p.shards[0], p.book, p.stats, o);
  bool seed_differs = false;
  for (std::int64_t epoch = 0; epoch < 5; ++epoch) {
    // Out of order on purpose: a batch depends on (seed, epoch, step) only.
    for (std::int64_t step = a.stepsPerEpoch() - 1; step >= 0; --step) {
      EXPECT_TRUE(sameBatch(a.sample(epoch, step), b.sample(epoch, step)));
      seed_differs |= !sameBatch(a.sample(epoch, step), c.sample(epoch, step));
    }
  }
  EXPECT_TRUE(seed_differs);
}

TEST(NeighborSampler, RemoteSourceDrawsWhatASingleProcessDraws) {
  const Partitioned p = partitioned(2);
  const Partitioned whole = partitioned(1);
  const SamplerOptions o = smallOptions();
  const NeighborSampler owner0(p.shards[0], p.book, p.stats, o);
  const NeighborSampler owner1(p.shards[1], p.book, p.stats, o);
  const InProcessNeighborSource remote(p.book, {&owner0, &owner1});
  const NeighborSampler single(whole.shards[0], whole.book, whole.stats, o);
  bool any_remote = false;
  for (const Shard& shard : p.shards) {
    NeighborSampler sampler(shard, p.book, p.stats, o, &remote);
    for (std::int64_t step = 0; step < sampler.stepsPerEpoch(); ++step) {
      const MiniBatch b = sampler.sample(0, step);
      checkBatch(b, p, shard, o, true);
      const std::uint64_t stream = mixSeed(o.seed, 0, static_cast<std::uint64_t>(step));
      for (std::size_t l = 0; l < b.blocks.size(); ++l) {
        const Block& block = b.blocks[l];
        const SampledNeighbors expected =
            single.sampleOwnedNeighbors(block.dst_nodes, stream, b.blocks.size() - 1 - l);
        for (std::size_t i = 0; i < block.dst_nodes.size(); ++i) {
          any_remote |= p.book.partOf(block.dst_nodes[i]) != shard.part &&
                        block.indptr[i + 1] > block.indptr[i];
          std::vector<std::pair<std::int64_t, std::int32_t>> want;
          for (std::int64_t e = expected.indptr[i]; e < expected.indptr[i + 1]; ++e) {
            want.emplace_back(expected.sources[e], expected.relations[e]);
          }
          EXPECT_EQ(edgesOf(block, i), want);
        }
      }
    }
  }
  EXPECT_TRUE(any_remote);
}

TEST(NeighborSampler, RejectsBadOptions) {
  const Partitioned p = partitioned(1);
  auto make = [&](const SamplerOptions& o) { NeighborSampler(p.shards[0], p.book, p.stats, o); };
  SamplerOptions o = smallOptions();
  o.fanouts.clear();
  EXPECT_THROW(make(o), ConfigError);
  o = smallOptions();
  o.fanouts = {2, 0};
  EXPECT_THROW(make(o), ConfigError);
  o = smallOptions();
  o.negatives = 0;
  EXPECT_THROW(make(o), ConfigError);
  o = smallOptions();
  o.batch_size = -1;
  EXPECT_THROW(make(o), ConfigError);
  o = smallOptions();
  o.relation_fanouts.push_back({{1}, {2}});  // one fanout for two layers
  EXPECT_THROW(make(o), ConfigError);
  o = smallOptions();
  o.relation_fanouts.push_back({{99}, {2, 2}});
  EXPECT_THROW(make(o), ConfigError);
  o = smallOptions();
  o.relation_fanouts.push_back({{1, 2}, {2, 2}});
  o.relation_fanouts.push_back({{2}, {1, 1}});  // relation 2 in two groups
  EXPECT_THROW(make(o), ConfigError);
  o = smallOptions();
  o.fanouts = {-1, 3};
  EXPECT_NO_THROW(make(o));
}

std::vector<MiniBatch> drain(BatchPipeline& pipeline) {
  std::vector<MiniBatch> out;
  MiniBatch b;
  while (pipeline.next(&b)) out.push_back(std::move(b));
  return out;
}

TEST(BatchPipeline, SameBatchesInStepOrderWhateverTheThreadCount) {
  const Partitioned p = partitioned(1);
  SamplerOptions o = smallOptions();
  o.batch_size = 2;
  const NeighborSampler sampler(p.shards[0], p.book, p.stats, o);
  const std::int64_t steps = sampler.stepsPerEpoch();
  ASSERT_GE(steps, 8);
  for (int threads : {1, 2, 4}) {
    for (std::size_t capacity : {1, 3}) {
      BatchPipeline pipeline(sampler, 2, steps, threads, capacity);
      const std::vector<MiniBatch> got = drain(pipeline);
      ASSERT_EQ(static_cast<std::int64_t>(got.size()), steps);
      for (std::int64_t s = 0; s < steps; ++s) {
        EXPECT_EQ(got[s].step, s);
        EXPECT_TRUE(sameBatch(got[s], sampler.sample(2, s))) << threads << " threads, step " << s;
      }
      MiniBatch after;
      EXPECT_FALSE(pipeline.next(&after));
    }
  }
}

TEST(BatchPipeline, StopsAtTheGivenStepCountAndJoinsEarly) {
  const Partitioned p = partitioned(1);
  const NeighborSampler sampler(p.shards[0], p.book, p.stats, smallOptions());
  BatchPipeline short_epoch(sampler, 0, 2, 3, 2);
  EXPECT_EQ(drain(short_epoch).size(), 2u);
  // Destroyed with batches not taken: the destructor must stop and join the workers.
  BatchPipeline abandoned(sampler, 0, sampler.stepsPerEpoch(), 2, 1);
  MiniBatch b;
  EXPECT_TRUE(abandoned.next(&b));
  EXPECT_THROW(BatchPipeline(sampler, 0, sampler.stepsPerEpoch() + 1, 1, 1), ConfigError);
  EXPECT_THROW(BatchPipeline(sampler, 0, 1, 0, 1), ConfigError);
  EXPECT_THROW(BatchPipeline(sampler, 0, 1, 1, 0), ConfigError);
}

// A collective source of two lanes that answers with no neighbours and counts its calls per
// lane; lane 1 is slow, so that its worker lags behind lane 0's.
class CountingLanes final : public RemoteNeighborSource {
 public:
  SampledNeighbors sampleNeighbors(const std::vector<std::int64_t>& nodes, std::uint64_t,
                                   std::int64_t, int lane) const override {
    if (lane == 1) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ++calls[lane];
    SampledNeighbors none;
    none.indptr.assign(nodes.size() + 1, 0);
    return none;
  }
  bool collective() const override { return true; }
  int lanes() const override { return 2; }
  mutable std::atomic<int> calls[2] = {0, 0};
};

// With a collective source every rank must sample the same steps, whenever its consumer stops:
// the lanes build every step before stop()'s bound, and the destructor's own bound is the next
// step to hand out plus the queue capacity, whatever the workers' timing.
TEST(BatchPipeline, ACollectiveSourceSamplesEveryStepBeforeTheStopBound) {
  const Partitioned p = partitioned(1);
  SamplerOptions o = smallOptions();
  o.batch_size = 2;
  CountingLanes lanes;
  const NeighborSampler sampler(p.shards[0], p.book, p.stats, o, &lanes);
  ASSERT_GE(sampler.stepsPerEpoch(), 9);
  sampler.sample(0, 0);  // lane 0: the calls of one batch
  const int per_batch = lanes.calls[0].exchange(0);
  ASSERT_GT(per_batch, 0);
  for (const bool explicit_stop : {true, false}) {
    SCOPED_TRACE(explicit_stop ? "stop(8)" : "destructor");
    lanes.calls[0] = lanes.calls[1] = 0;
    {
      BatchPipeline pipeline(sampler, 0, sampler.stepsPerEpoch(), 1, 2);
      MiniBatch b;
      for (int taken = 0; taken < 3; ++taken) ASSERT_TRUE(pipeline.next(&b));
      if (explicit_stop) pipeline.stop(8);
    }
    const int steps = explicit_stop ? 8 : 3 + 2;  // steps 0 .. steps-1, even ones on lane 0
    EXPECT_EQ(lanes.calls[0], (steps + 1) / 2 * per_batch);
    EXPECT_EQ(lanes.calls[1], steps / 2 * per_batch);
  }
}

TEST(BatchPipeline, RethrowsAWorkerException) {
  const Partitioned p = partitioned(1);
  const NeighborSampler sampler(p.shards[0], p.book, p.stats, smallOptions());
  // A negative epoch passes the pipeline's checks but makes every sample() throw.
  BatchPipeline pipeline(sampler, -1, sampler.stepsPerEpoch(), 2, 2);
  MiniBatch b;
  EXPECT_THROW(pipeline.next(&b), Error);
  EXPECT_THROW(pipeline.next(&b), Error);
}

// The KG edges of the tiny dataset as (head, relation id, tail) in global ids: every triple
// and its reverse.
std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> kgEdges(const Dataset& d) {
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> edges;
  for (std::int64_t v = 0; v < d.nodes.numNodes(); ++v) {
    for (std::int64_t e = d.graph.indptr[v]; e < d.graph.indptr[v + 1]; ++e) {
      if (d.graph.relations[e] >= kgForwardRelation(0)) {
        edges.emplace(d.graph.indices[e], d.graph.relations[e], v);
      }
    }
  }
  return edges;
}

TEST(KgTripleSampler, EachEpochTakesEveryKgEdgeOnceWhateverTheParts) {
  constexpr std::int64_t kSteps = 3;
  const Partitioned one = partitioned(1);
  const auto edges = kgEdges(one.dataset);
  ASSERT_EQ(edges.size(), 14u);  // 7 triples and their reverses
  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    // step -> the triples and corrupted heads of all parts
    std::map<std::int64_t, std::set<std::vector<std::int64_t>>> by_parts[2];
    for (int variant = 0; variant < 2; ++variant) {
      const Partitioned p = partitioned(variant == 0 ? 1 : 3);
      std::int64_t owned = 0;
      for (const Shard& shard : p.shards) {
        const KgTripleSampler sampler(shard, 7);
        owned += sampler.numOwnedTriples();
        for (std::int64_t step = 0; step < kSteps; ++step) {
          const KgTriples t = sampler.sample(epoch, step, kSteps);
          for (std::size_t i = 0; i < t.size(); ++i) {
            EXPECT_EQ(p.book.partOf(t.tails[i]), shard.part);
            by_parts[variant][step].insert(
                {t.heads[i], t.relations[i], t.tails[i], t.corrupt_heads[i]});
          }
        }
      }
      EXPECT_EQ(owned, 14);
    }
    EXPECT_EQ(by_parts[0], by_parts[1]) << "epoch " << epoch;
    std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> seen;
    for (const auto& [step, triples] : by_parts[0]) {
      for (const std::vector<std::int64_t>& t : triples) {
        EXPECT_TRUE(seen.emplace(t[0], t[1], t[2]).second) << "a triple twice in one epoch";
        EXPECT_EQ(edges.count({t[3], t[1], t[2]}), 0u) << "corrupted head is a true head";
        EXPECT_GE(t[3], one.dataset.nodes.num_users) << "corrupted head is a user";
      }
    }
    EXPECT_EQ(seen, edges);
  }
}

}  // namespace
}  // namespace kgrec
