#pragma once
// Quality of a partition: edge cut, balance, halo sizes, connected components, and the
// feature bytes a rank would fetch from other ranks per epoch. docs/partition.md defines each.

#include <cstdint>
#include <vector>

#include "engine/graph/dataset.h"

namespace kgrec {

struct PartitionStats {
  std::int64_t parts = 0;
  std::int64_t num_edges = 0;  // graph edges (CSR entries, reverses included)
  // Undirected edges (an edge and its reverse count once) whose endpoints lie in different
  // parts; edge_cut_fraction = edge_cut / (num_edges / 2).
  std::int64_t edge_cut = 0;
  double edge_cut_fraction = 0.0;
  std::vector<std::int64_t> nodes;        // owned nodes per part
  std::vector<std::int64_t> edges;        // edges per part (in-edges of its owned nodes)
  std::vector<std::int64_t> train_edges;  // training interactions per part (owner of the user)
  std::vector<std::int64_t> halo_nodes;   // remote 1-hop neighbours per part
  double node_balance = 1.0;              // max part / mean part
  double train_edge_balance = 1.0;        // max part / mean part; 1 without training pairs
};

// One pass over the graph. part_of[v] in [0, parts) for every node v.
PartitionStats computePartitionStats(const Dataset& dataset,
                                     const std::vector<std::int32_t>& part_of,
                                     std::int64_t parts);

// max / mean of the values; 1 when the mean is 0.
double balance(const std::vector<std::int64_t>& values);

// Connected components of the graph (Boost's disjoint sets over the edges).
struct ComponentStats {
  std::int64_t count = 0;
  std::int64_t largest = 0;   // nodes in the largest component
  std::int64_t isolated = 0;  // nodes without any edge to another node
};
ComponentStats graphComponents(const Csr& graph);

// Feature traffic of one rank per epoch under L-layer neighbour sampling, simulated: the
// rank's training interactions (those of the users it owns) are shuffled into mini-batches;
// each batch's seeds are the users, their positive items and one uniform negative item per
// interaction; layer l adds up to fanouts[l] neighbours (drawn with replacement, all of them
// when fewer) of every node reached so far for the first time. The distinct nodes a batch
// reaches that another rank owns are fetched once for that batch (no cache across batches):
// bytes = sum over batches of remote nodes * feature_bytes. Large ranks simulate a random
// max_batches of their batches and scale the sums up (per-batch counts vary little, and this
// keeps the estimate a few seconds on a 10M-edge graph). Deterministic for a seed.
struct SamplingPlan {
  std::vector<int> fanouts = {10, 10};
  std::int64_t batch_size = 1024;            // training interactions per batch
  std::int64_t feature_bytes = 64 * sizeof(float);
  bool negatives = true;
  std::int64_t max_batches = 64;             // per rank
  std::uint64_t seed = 1;
};
struct FetchEstimate {
  std::int64_t batches = 0;            // in the epoch
  std::int64_t simulated_batches = 0;  // of those, simulated
  std::int64_t sampled_nodes = 0;  // distinct per batch, summed over the epoch's batches
  std::int64_t remote_nodes = 0;   // of those, owned by another rank
  std::int64_t bytes = 0;          // remote_nodes * feature_bytes
};
FetchEstimate estimateEpochFetch(const Dataset& dataset, const std::vector<std::int32_t>& part_of,
                                 std::int32_t part, const SamplingPlan& plan = SamplingPlan());

}  // namespace kgrec
