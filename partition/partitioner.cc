#include "partition/partitioner.h"

#include <metis.h>

#include <chrono>
#include <limits>
#include <numeric>

#include <spdlog/spdlog.h>

#include "engine/common/error.h"
#include "engine/common/random.h"

namespace kgrec {
namespace {

static_assert(IDXTYPEWIDTH == 32 || IDXTYPEWIDTH == 64, "METIS idx_t must be 32 or 64 bits");
static_assert(sizeof(idx_t) * 8 == IDXTYPEWIDTH, "metis.h's idx_t disagrees with IDXTYPEWIDTH");

// Streams of the partitioner's seed, so that methods never share random numbers.
enum Stream : std::uint64_t { kStreamRandom = 1, kStreamMetis };

// METIS's CSR input: the graph symmetrised (it already is as a set of pairs), without
// self-loops, parallel relations merged into one edge whose weight is their count.
struct MetisGraph {
  std::vector<idx_t> xadj, adjncy, adjwgt, vwgt;
  idx_t ncon = 1;
};

MetisGraph metisGraph(const Dataset& d) {
  const Csr& g = d.graph;
  const std::int64_t n = g.numRows();
  constexpr auto kIdxMax = static_cast<std::int64_t>(std::numeric_limits<idx_t>::max());
  if (g.numEdges() > kIdxMax) {
    throw ConfigError(fmt::format(
        "the graph has {} edges, more than METIS's {}-bit indices hold; rebuild METIS with "
        "IDXTYPEWIDTH 64 or use --method random",
        g.numEdges(), IDXTYPEWIDTH));
  }
  MetisGraph m;
  m.xadj.reserve(n + 1);
  m.adjncy.reserve(g.numEdges());
  m.adjwgt.reserve(g.numEdges());
  m.xadj.push_back(0);
  for (std::int64_t v = 0; v < n; ++v) {
    const auto row_begin = static_cast<std::int64_t>(m.adjncy.size());
    // Rows are sorted by (source, relation): a pair's relations are consecutive.
    for (std::int64_t k = g.indptr[v]; k < g.indptr[v + 1]; ++k) {
      const std::int32_t u = g.indices[k];
      if (u == v) continue;
      if (static_cast<std::int64_t>(m.adjncy.size()) > row_begin && m.adjncy.back() == u) {
        ++m.adjwgt.back();
      } else {
        m.adjncy.push_back(u);
        m.adjwgt.push_back(1);
      }
    }
    m.xadj.push_back(static_cast<idx_t>(m.adjncy.size()));
  }
  // Constraint 0 balances nodes; constraint 1 the training interactions each part owns, which
  // are those of its users (seeds stay local). Without training pairs one constraint suffices.
  m.ncon = d.train.empty() ? 1 : 2;
  m.vwgt.assign(static_cast<std::size_t>(n * m.ncon), 0);
  for (std::int64_t v = 0; v < n; ++v) m.vwgt[v * m.ncon] = 1;
  if (m.ncon == 2) {
    for (const Interaction& x : d.train) ++m.vwgt[d.nodes.globalId(NodeType::kUser, x.user) * 2 + 1];
  }
  return m;
}

const char* metisStatusName(int status) {
  switch (status) {
    case METIS_ERROR_INPUT: return "METIS_ERROR_INPUT (erroneous input or options)";
    case METIS_ERROR_MEMORY: return "METIS_ERROR_MEMORY (out of memory)";
    default: return "METIS_ERROR";
  }
}

PartAssignment metisParts(const Dataset& d, std::int64_t parts, std::uint64_t seed) {
  MetisGraph m = metisGraph(d);
  idx_t nvtxs = static_cast<idx_t>(d.nodes.numNodes());
  idx_t nparts = static_cast<idx_t>(parts);
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_NUMBERING] = 0;
  // METIS wants a non-negative int seed; fold the 64-bit one into 31 bits.
  options[METIS_OPTION_SEED] = static_cast<idx_t>(mixSeed(seed, kStreamMetis) >> 33);
  std::vector<idx_t> part(static_cast<std::size_t>(nvtxs), 0);
  idx_t edgecut = 0;
  const auto start = std::chrono::steady_clock::now();
  const int status =
      METIS_PartGraphKway(&nvtxs, &m.ncon, m.xadj.data(), m.adjncy.data(), m.vwgt.data(), nullptr,
                          m.adjwgt.data(), &nparts, nullptr, nullptr, options, &edgecut, part.data());
  PartAssignment a;
  a.metis_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (status != METIS_OK) {
    throw Error(fmt::format("METIS_PartGraphKway failed for {} parts of {} nodes: {}", parts,
                            nvtxs, metisStatusName(status)));
  }
  a.metis_objective = edgecut;
  a.part_of.assign(part.begin(), part.end());
  spdlog::info("METIS: {} parts, edge cut {} ({:.2f}s)", parts, edgecut, a.metis_seconds);
  return a;
}

PartAssignment randomParts(std::int64_t num_nodes, std::int64_t parts, std::uint64_t seed) {
  std::vector<std::int32_t> order(num_nodes);
  std::iota(order.begin(), order.end(), 0);
  SplitMix64 rng(mixSeed(seed, kStreamRandom));
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  PartAssignment a;
  a.part_of.resize(num_nodes);
  for (std::int64_t k = 0; k < num_nodes; ++k) {
    a.part_of[order[k]] = static_cast<std::int32_t>(k % parts);
  }
  return a;
}

}  // namespace

PartitionMethod parsePartitionMethod(const std::string& name) {
  if (name == "metis") return PartitionMethod::kMetis;
  if (name == "random") return PartitionMethod::kRandom;
  throw ConfigError(fmt::format("unknown partition method '{}': use metis or random", name));
}

const char* partitionMethodName(PartitionMethod method) {
  return method == PartitionMethod::kMetis ? "metis" : "random";
}

PartAssignment assignParts(const Dataset& d, std::int64_t parts, PartitionMethod method,
                           std::uint64_t seed) {
  const std::int64_t n = d.nodes.numNodes();
  if (parts < 1) throw ConfigError(fmt::format("--parts must be >= 1, got {}", parts));
  if (parts > n) {
    throw ConfigError(
        fmt::format("--parts {} is more than the dataset's {} nodes: every part needs a node",
                    parts, n));
  }
  // One part needs no partitioner (and some METIS versions reject nparts = 1).
  if (parts == 1) {
    PartAssignment a;
    a.part_of.assign(n, 0);
    return a;
  }
  return method == PartitionMethod::kMetis ? metisParts(d, parts, seed)
                                           : randomParts(n, parts, seed);
}

}  // namespace kgrec
