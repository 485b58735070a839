#include "engine/graph/normalized_adjacency.h"

#include <cmath>

namespace kgrec {

WeightedCsr normalizedInteractionGraph(const Dataset& dataset) {
  const Csr& g = dataset.graph;
  const std::int64_t n = dataset.nodes.num_users + dataset.nodes.num_items;
  auto isInteraction = [&](std::int64_t e) {
    return g.relations[e] == kRelInteract || g.relations[e] == kRelInteractReverse;
  };
  WeightedCsr a;
  a.num_rows = n;
  a.indptr.assign(n + 1, 0);
  // Step 1: degrees (the interaction graph is symmetric, so in-degree = degree).
  std::vector<double> inv_sqrt_degree(n, 0.0);
  for (std::int64_t v = 0; v < n; ++v) {
    std::int64_t degree = 0;
    for (std::int64_t e = g.indptr[v]; e < g.indptr[v + 1]; ++e) degree += isInteraction(e);
    a.indptr[v + 1] = a.indptr[v] + degree;
    if (degree > 0) inv_sqrt_degree[v] = 1.0 / std::sqrt(static_cast<double>(degree));
  }
  // Step 2: fill; rows of the dataset's CSR are sorted by source, so these are too.
  a.indices.resize(a.indptr[n]);
  a.values.resize(a.indptr[n]);
  for (std::int64_t v = 0; v < n; ++v) {
    std::int64_t at = a.indptr[v];
    for (std::int64_t e = g.indptr[v]; e < g.indptr[v + 1]; ++e) {
      if (!isInteraction(e)) continue;
      const std::int32_t u = g.indices[e];
      a.indices[at] = u;
      a.values[at] = static_cast<float>(inv_sqrt_degree[u] * inv_sqrt_degree[v]);
      ++at;
    }
  }
  return a;
}

}  // namespace kgrec
