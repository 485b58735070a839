#include "partition/node_order.h"

#include <cstdlib>
#include <deque>
#include <utility>

#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/connected_components.hpp>
#include <boost/graph/cuthill_mckee_ordering.hpp>

#include "engine/common/error.h"

namespace kgrec {
namespace {

using LocalGraph = boost::compressed_sparse_row_graph<boost::directedS, boost::no_property,
                                                      boost::no_property, boost::no_property,
                                                      std::uint32_t, std::uint32_t>;

// Reverse Cuthill-McKee order of `nodes` (ascending global ids) on the subgraph they induce;
// `components` receives the number of its connected components. `local` maps global ->
// position in `nodes` for these nodes and -1 elsewhere.
std::vector<std::int32_t> reverseCuthillMcKee(const Csr& g, const std::vector<std::int32_t>& nodes,
                                              const std::vector<std::int32_t>& local,
                                              std::int64_t* components) {
  // Both directions of every internal edge are in the rows (the graph is symmetric), and rows
  // are sorted by source, so the edge list comes out sorted as Boost's CSR constructor wants.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  for (std::size_t a = 0; a < nodes.size(); ++a) {
    const std::int32_t v = nodes[a];
    std::int32_t last = -1;
    for (std::int64_t k = g.indptr[v]; k < g.indptr[v + 1]; ++k) {
      const std::int32_t b = local[g.indices[k]];
      if (b < 0 || b == static_cast<std::int32_t>(a) || b == last) continue;
      last = b;
      edges.emplace_back(static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(b));
    }
  }
  const LocalGraph graph(boost::edges_are_sorted, edges.begin(), edges.end(), nodes.size());
  edges = {};
  // One start per component, its vertex of least degree. Boost's own start search (a
  // pseudo-peripheral node) clears a colour map of the whole graph per component, which is
  // quadratic on the many small pieces of a random partition.
  const auto index = boost::get(boost::vertex_index, graph);
  std::vector<std::uint32_t> component(nodes.size());
  *components = boost::connected_components(
      graph, boost::make_iterator_property_map(component.begin(), index));
  std::vector<std::int64_t> start(*components, -1);
  for (std::uint32_t v = 0; v < nodes.size(); ++v) {
    std::int64_t& s = start[component[v]];
    if (s < 0 || boost::out_degree(v, graph) < boost::out_degree(static_cast<std::uint32_t>(s), graph)) s = v;
  }
  std::vector<std::uint32_t> inverse(nodes.size());
  std::vector<boost::default_color_type> colors(nodes.size());
  boost::cuthill_mckee_ordering(graph, std::deque<std::uint32_t>(start.begin(), start.end()),
                                inverse.rbegin(),
                                boost::make_iterator_property_map(colors.begin(), index),
                                boost::make_out_degree_map(graph));
  std::vector<std::int32_t> order(nodes.size());
  for (std::size_t i = 0; i < inverse.size(); ++i) order[i] = nodes[inverse[i]];
  return order;
}

}  // namespace

std::vector<std::vector<std::int32_t>> orderOwnedNodes(const Csr& g,
                                                       const std::vector<std::int32_t>& part_of,
                                                       std::int64_t parts,
                                                       std::vector<std::int64_t>* components) {
  const std::int64_t n = g.numRows();
  KGREC_CHECK(static_cast<std::int64_t>(part_of.size()) == n,
              "part_of has {} entries for {} nodes", part_of.size(), n);
  std::vector<std::vector<std::int32_t>> owned(parts);
  for (std::int64_t v = 0; v < n; ++v) owned[part_of[v]].push_back(static_cast<std::int32_t>(v));
  std::vector<std::int32_t> local(n, -1);
  if (components != nullptr) components->assign(parts, 0);
  for (std::int64_t p = 0; p < parts; ++p) {
    std::vector<std::int32_t>& nodes = owned[p];
    for (std::size_t a = 0; a < nodes.size(); ++a) local[nodes[a]] = static_cast<std::int32_t>(a);
    std::int64_t count = 0;
    std::vector<std::int32_t> order = reverseCuthillMcKee(g, nodes, local, &count);
    if (components != nullptr) (*components)[p] = count;
    for (const std::int32_t v : nodes) local[v] = -1;
    nodes = std::move(order);
  }
  return owned;
}

double meanNeighbourDistance(const Csr& g, const std::vector<std::int32_t>& owned,
                             std::vector<std::int32_t>* scratch) {
  std::vector<std::int32_t>& local = *scratch;
  local.resize(g.numRows(), -1);
  for (std::size_t a = 0; a < owned.size(); ++a) local[owned[a]] = static_cast<std::int32_t>(a);
  double total = 0.0;
  std::int64_t count = 0;
  for (std::size_t a = 0; a < owned.size(); ++a) {
    const std::int32_t v = owned[a];
    for (std::int64_t k = g.indptr[v]; k < g.indptr[v + 1]; ++k) {
      const std::int32_t b = local[g.indices[k]];
      if (b < 0) continue;
      total += std::abs(b - static_cast<std::int32_t>(a));
      ++count;
    }
  }
  for (const std::int32_t v : owned) local[v] = -1;
  return count > 0 ? total / static_cast<double>(count) : 0.0;
}

}  // namespace kgrec
