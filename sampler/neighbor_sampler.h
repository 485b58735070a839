#pragma once
// Per-rank mini-batch sampling over the rank's partition shard (issue #6): BPR seed triples
// from the part's own training interactions, then L-layer neighbour sampling from the seeds.
// Plain C++ up to the boundary where a model turns the arrays into tensors. docs/sampler.md
// describes the block layout, the normalisation and the local + halo trade-off.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/common/random.h"
#include "engine/graph/dataset.h"
#include "partition/partition_book.h"
#include "partition/shard.h"

namespace kgrec {

struct SamplerOptions {
  // Neighbours per destination node and hop, nearest hop first: fanouts[0] is drawn around the
  // seeds (the output block, blocks.back()), fanouts[L-1] for the input block. -1 = all.
  std::vector<std::int64_t> fanouts;
  // Optional budgets of their own for groups of relation ids (a group of one: a relation's
  // own budget), one entry per hop like `fanouts`; the relations in no group share
  // fanouts[hop]. A relation is in at most one group.
  struct RelationGroup {
    std::vector<std::int32_t> relations;
    std::vector<std::int64_t> fanouts;
  };
  std::vector<RelationGroup> relation_fanouts;
  bool replace = false;
  std::int64_t negatives = 1;         // per (user, positive)
  bool popularity_negatives = false;  // weight (training interactions + 1) instead of uniform
  std::int64_t batch_size = 1024;     // (user, positive) seeds per batch
  std::uint64_t seed = 1;
};

// Checks the options against the number of relation ids; ConfigError naming the bad value.
void validateSamplerOptions(const SamplerOptions& options, std::int64_t num_relations);

// Whole-graph facts every rank needs but no shard holds for remote nodes. A single process
// takes them from the dataset (graphStats); ranks gather them (sampler/dist/).
struct GraphStats {
  std::vector<std::int32_t> degree;             // by global id, in-degree of the full graph
  std::vector<std::int64_t> item_interactions;  // by item index, training interactions
  std::int64_t num_train = 0;                   // training interactions of all parts
};
GraphStats graphStats(const Dataset& dataset);

// One message-passing layer: edges src -> dst. dst node i is src node i, so a model can take
// the destinations' own rows as the first dst_nodes.size() rows of the source table.
struct Block {
  std::vector<std::int64_t> dst_nodes;   // global ids
  std::vector<std::int64_t> src_nodes;   // global ids, dst_nodes first
  std::vector<std::int64_t> indptr;      // dst_nodes.size() + 1
  std::vector<std::int32_t> indices;     // into src_nodes
  std::vector<std::int32_t> relations;   // dataset relation id per edge
  // 1 / sqrt(deg(src) * deg(dst)) with full-graph degrees (the entry of LightGCN's normalised
  // adjacency), times the inverse of the edge's inclusion rate (neighbours in its group / drawn
  // from it), so that a sampled sum estimates the full one without bias (docs/sampler.md).
  std::vector<float> edge_weight;
  std::int64_t numEdges() const { return static_cast<std::int64_t>(indices.size()); }
};

struct MiniBatch {
  std::int64_t epoch = 0, step = 0;
  // Seed triples as global ids: seed i is (users[i], positives[i]) with negatives
  // [i * k, (i + 1) * k), k = SamplerOptions::negatives.
  std::vector<std::int64_t> users, positives, negatives;
  // Each seed's row in blocks.back().dst_nodes (and so in every block's first rows).
  std::vector<std::int32_t> user_rows, positive_rows, negative_rows;
  std::vector<Block> blocks;              // input layer first; blocks.back().dst_nodes = seeds
  // = blocks.front().src_nodes: rows to fetch (the seed nodes first, which the seeds' rows
  // index); without blocks (sampleSeeds), the seed nodes alone.
  std::vector<std::int64_t> input_nodes;
};

// In-edges drawn for a list of nodes: node i's sources are sources[indptr[i] .. indptr[i+1]).
struct SampledNeighbors {
  std::vector<std::int64_t> indptr;
  std::vector<std::int64_t> sources;  // global ids
  std::vector<std::int32_t> relations;
  std::vector<float> inverse_rates;   // per edge: neighbours in its group / drawn from it
};

// Draws the neighbours of nodes this rank does not own, by asking their owners; the owner
// answers with NeighborSampler::sampleOwnedNeighbors(nodes, stream, hop), so the draw is the
// one a single process would make. Without one, non-owned nodes are leaves (local + halo).
class RemoteNeighborSource {
 public:
  virtual ~RemoteNeighborSource() = default;
  // `lane`: the channel of the batch asking, step % lanes().
  virtual SampledNeighbors sampleNeighbors(const std::vector<std::int64_t>& nodes,
                                           std::uint64_t stream, std::int64_t hop,
                                           int lane) const = 0;
  // A collective source must be called by every rank for every (batch, hop), and within each
  // lane in step order from one thread: the sampler then calls it even when it wants nothing,
  // and BatchPipeline runs one worker per lane, worker w building steps w, w + lanes, ...
  virtual bool collective() const { return false; }
  // Independent channels of a collective source (e.g. one communicator each), so that
  // several threads can sample at once.
  virtual int lanes() const { return 1; }
};

class NeighborSampler {
 public:
  // The shard, book, stats and remote source must outlive the sampler. ConfigError for bad
  // options or a user whose training items cover every item.
  NeighborSampler(const Shard& shard, const PartitionBook& book, const GraphStats& stats,
                  SamplerOptions options, const RemoteNeighborSource* remote = nullptr);

  // Batches per epoch, the same on every rank by construction: ceil(training interactions of
  // all parts / batch size). The global batch of a step does not depend on the number of
  // parts: each interaction goes to the step its hash (seed, epoch, user, item) falls in, and
  // each rank takes the seeds of its own users; so a rank's batch varies in size around
  // batch_size / parts, and may be empty (docs/sampler.md).
  std::int64_t stepsPerEpoch() const;
  std::int64_t numSeeds() const { return static_cast<std::int64_t>(shard_.train.size()); }
  const SamplerOptions& options() const { return options_; }
  bool collectiveRemote() const { return remote_ != nullptr && remote_->collective(); }
  // The collective source's lanes: batch `step` goes over lane step % remoteLanes().
  int remoteLanes() const { return collectiveRemote() ? remote_->lanes() : 0; }

  // Batch `step` of `epoch`; depends on (seed, epoch, step) only, so any thread may compute
  // any batch, unless the remote source is collective (then see RemoteNeighborSource).
  // Thread-safe.
  MiniBatch sample(std::int64_t epoch, std::int64_t step) const;
  // The seeds of the same batch without neighbour sampling (no blocks): input_nodes are the
  // distinct seed nodes, which the seeds' rows index. Full-graph training needs only these.
  MiniBatch sampleSeeds(std::int64_t epoch, std::int64_t step) const;

  // The in-edges drawn for owned nodes (global ids) at `hop` in the batch of RNG `stream`:
  // what an owner answers to a RemoteNeighborSource request.
  SampledNeighbors sampleOwnedNeighbors(const std::vector<std::int64_t>& nodes,
                                        std::uint64_t stream, std::int64_t hop) const;

 private:
  // An epoch's seeds: the local training interactions sorted by (step, hash); step s's are
  // order[step_begin[s] .. step_begin[s + 1]).
  struct EpochSchedule {
    std::vector<std::int64_t> order;
    std::vector<std::int64_t> step_begin;
  };
  std::shared_ptr<const EpochSchedule> epochSchedule(std::int64_t epoch) const;
  // Negatives are never the user's training items, nor items held out as cold: those stand
  // for items that do not exist yet when the model is trained.
  bool isCold(std::int64_t item) const;
  void drawNegatives(std::int64_t user, SplitMix64& rng, std::int64_t* out) const;
  // Appends the in-edges drawn for owned node `global` to `out` (without touching its indptr).
  void drawInEdges(std::int64_t global, std::uint64_t stream, std::int64_t hop,
                   SampledNeighbors* out) const;

  const Shard& shard_;
  const PartitionBook& book_;
  const GraphStats& stats_;
  SamplerOptions options_;
  const RemoteNeighborSource* remote_;
  // ownedInEdgesByGlobalId: a node's draw depends on its edges only, not on the partition's
  // local numbering, so every partition draws the same neighbours.
  Csr in_edges_;
  Csr user_items_;                        // every training item of each owned user (by user index)
  // By relation id: its index in options_.relation_fanouts, -1 for the shared budget.
  std::vector<std::int32_t> group_of_relation_;
  std::vector<double> popularity_cdf_;    // by item, when popularity_negatives

  // The schedule of the latest epoch asked for, shared by the threads sampling it.
  mutable std::mutex schedule_mutex_;
  mutable std::int64_t schedule_epoch_ = -1;
  mutable std::shared_ptr<const EpochSchedule> schedule_;
};

// Answers from the owners' samplers held in this process (owners[p] samples part p): a
// single-process stand-in for the over-comm/ source, for tests and benchmarks. Batched per
// owner, as a request over comm/ would be.
class InProcessNeighborSource : public RemoteNeighborSource {
 public:
  InProcessNeighborSource(const PartitionBook& book, std::vector<const NeighborSampler*> owners)
      : book_(book), owners_(std::move(owners)) {}
  SampledNeighbors sampleNeighbors(const std::vector<std::int64_t>& nodes, std::uint64_t stream,
                                   std::int64_t hop, int lane) const override;

 private:
  const PartitionBook& book_;
  std::vector<const NeighborSampler*> owners_;
};

}  // namespace kgrec
