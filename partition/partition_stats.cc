#include "partition/partition_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <boost/pending/disjoint_sets.hpp>

#include "engine/common/error.h"
#include "engine/common/random.h"

namespace kgrec {

double balance(const std::vector<std::int64_t>& values) {
  if (values.empty()) return 1.0;
  const double total = static_cast<double>(std::accumulate(values.begin(), values.end(), std::int64_t{0}));
  if (total <= 0.0) return 1.0;
  const double max = static_cast<double>(*std::max_element(values.begin(), values.end()));
  return max / (total / static_cast<double>(values.size()));
}

PartitionStats computePartitionStats(const Dataset& d, const std::vector<std::int32_t>& part_of,
                                     std::int64_t parts) {
  const Csr& g = d.graph;
  const std::int64_t n = g.numRows();
  KGREC_CHECK(static_cast<std::int64_t>(part_of.size()) == n,
              "part_of has {} entries for {} nodes", part_of.size(), n);
  PartitionStats s;
  s.parts = parts;
  s.num_edges = g.numEdges();
  s.nodes.assign(parts, 0);
  s.edges.assign(parts, 0);
  s.train_edges.assign(parts, 0);
  s.halo_nodes.assign(parts, 0);
  // Row u lists u's neighbours (the graph is symmetric), so u is in the halo of every other
  // part that owns one of them; `seen` stamps the parts already counted for u.
  std::vector<std::int64_t> seen(parts, -1);
  std::int64_t cut_entries = 0;
  for (std::int64_t u = 0; u < n; ++u) {
    const std::int32_t own = part_of[u];
    ++s.nodes[own];
    s.edges[own] += g.degree(u);
    seen[own] = u;
    for (std::int64_t k = g.indptr[u]; k < g.indptr[u + 1]; ++k) {
      const std::int32_t p = part_of[g.indices[k]];
      if (p == own) continue;
      ++cut_entries;
      if (seen[p] != u) {
        seen[p] = u;
        ++s.halo_nodes[p];
      }
    }
  }
  for (const Interaction& x : d.train) ++s.train_edges[part_of[d.nodes.globalId(NodeType::kUser, x.user)]];
  s.edge_cut = cut_entries / 2;
  s.edge_cut_fraction = s.num_edges > 0 ? static_cast<double>(cut_entries) / static_cast<double>(s.num_edges) : 0.0;
  s.node_balance = balance(s.nodes);
  s.train_edge_balance = balance(s.train_edges);
  return s;
}

ComponentStats graphComponents(const Csr& g) {
  const std::int64_t n = g.numRows();
  std::vector<std::int32_t> rank(n, 0), parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  boost::disjoint_sets<std::int32_t*, std::int32_t*> sets(rank.data(), parent.data());
  ComponentStats c;
  for (std::int64_t v = 0; v < n; ++v) {
    bool linked = false;
    for (std::int64_t k = g.indptr[v]; k < g.indptr[v + 1]; ++k) {
      const std::int32_t u = g.indices[k];
      if (u == v) continue;
      linked = true;
      if (u < v) sets.union_set(static_cast<std::int32_t>(v), u);  // each pair once
    }
    if (!linked) ++c.isolated;
  }
  std::vector<std::int64_t> size(n, 0);
  for (std::int64_t v = 0; v < n; ++v) ++size[sets.find_set(static_cast<std::int32_t>(v))];
  for (std::int64_t v = 0; v < n; ++v) {
    if (size[v] == 0) continue;
    ++c.count;
    c.largest = std::max(c.largest, size[v]);
  }
  return c;
}

FetchEstimate estimateEpochFetch(const Dataset& d, const std::vector<std::int32_t>& part_of,
                                 std::int32_t part, const SamplingPlan& plan) {
  KGREC_CHECK(plan.batch_size >= 1 && plan.max_batches >= 1,
              "batch_size and max_batches must be >= 1, got {} and {}", plan.batch_size,
              plan.max_batches);
  const Csr& g = d.graph;
  std::vector<Interaction> seeds;
  for (const Interaction& x : d.train) {
    if (part_of[d.nodes.globalId(NodeType::kUser, x.user)] == part) seeds.push_back(x);
  }
  SplitMix64 rng(mixSeed(plan.seed, static_cast<std::uint64_t>(part)));
  for (std::size_t i = seeds.size(); i > 1; --i) std::swap(seeds[i - 1], seeds[rng.below(i)]);

  FetchEstimate e;
  const auto num_seeds = static_cast<std::int64_t>(seeds.size());
  e.batches = (num_seeds + plan.batch_size - 1) / plan.batch_size;
  e.simulated_batches = std::min(e.batches, plan.max_batches);
  // The seeds are shuffled, so the first batches are a random sample of the epoch's.
  std::int64_t sampled = 0, remote = 0;
  std::vector<std::int64_t> stamp(g.numRows(), -1);  // batch that last reached each node
  std::vector<std::int32_t> frontier, next;
  for (std::int64_t batch = 0; batch < e.simulated_batches; ++batch) {
    auto reach = [&](std::int64_t v, std::vector<std::int32_t>* into) {
      if (stamp[v] == batch) return;
      stamp[v] = batch;
      into->push_back(static_cast<std::int32_t>(v));
      ++sampled;
      if (part_of[v] != part) ++remote;
    };
    frontier.clear();
    const std::int64_t begin = batch * plan.batch_size;
    const std::int64_t end = std::min(num_seeds, begin + plan.batch_size);
    for (std::int64_t k = begin; k < end; ++k) {
      reach(d.nodes.globalId(NodeType::kUser, seeds[k].user), &frontier);
      reach(d.nodes.globalId(NodeType::kItem, seeds[k].item), &frontier);
      if (plan.negatives) {
        reach(d.nodes.globalId(NodeType::kItem, static_cast<std::int64_t>(rng.below(d.nodes.num_items))),
              &frontier);
      }
    }
    for (const int fanout : plan.fanouts) {
      next.clear();
      for (const std::int32_t v : frontier) {
        const std::int64_t degree = g.degree(v);
        if (degree <= fanout) {
          for (std::int64_t k = g.indptr[v]; k < g.indptr[v + 1]; ++k) reach(g.indices[k], &next);
        } else {
          for (int s = 0; s < fanout; ++s) {
            reach(g.indices[g.indptr[v] + static_cast<std::int64_t>(rng.below(degree))], &next);
          }
        }
      }
      frontier.swap(next);
    }
  }
  if (e.simulated_batches > 0) {
    const double scale = static_cast<double>(e.batches) / static_cast<double>(e.simulated_batches);
    e.sampled_nodes = std::llround(static_cast<double>(sampled) * scale);
    e.remote_nodes = std::llround(static_cast<double>(remote) * scale);
  }
  e.bytes = e.remote_nodes * plan.feature_bytes;
  return e;
}

}  // namespace kgrec
