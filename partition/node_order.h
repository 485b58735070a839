#pragma once
// The order of each part's owned nodes in its shard: reverse Cuthill-McKee (Boost.Graph) on
// the subgraph the part induces, so that neighbours get nearby local ids and their feature
// rows sit close in memory during aggregation.

#include <cstdint>
#include <vector>

#include "engine/graph/dataset.h"

namespace kgrec {

// result[p] = the global ids part p owns, in reverse Cuthill-McKee order (each connected piece
// in turn, started at its node of least degree; deterministic). part_of[v] in [0, parts) for
// every node v of `graph`. `components`, when given, receives the number of connected
// components of each part's induced subgraph (Boost.Graph).
std::vector<std::vector<std::int32_t>> orderOwnedNodes(const Csr& graph,
                                                       const std::vector<std::int32_t>& part_of,
                                                       std::int64_t parts,
                                                       std::vector<std::int64_t>* components = nullptr);

// Mean |local(u) - local(v)| over the part-internal edges of `graph` under the order `owned`
// (a locality measure: smaller means neighbours sit closer).
double meanNeighbourDistance(const Csr& graph, const std::vector<std::int32_t>& owned,
                             std::vector<std::int32_t>* scratch);

}  // namespace kgrec
