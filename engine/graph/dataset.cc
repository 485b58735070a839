#include "engine/graph/dataset.h"

#include <algorithm>
#include <tuple>

#include "engine/common/error.h"

namespace kgrec {

const char* nodeTypeName(NodeType type) {
  switch (type) {
    case NodeType::kUser: return "user";
    case NodeType::kItem: return "item";
    case NodeType::kEntity: return "entity";
  }
  return "?";
}

std::int64_t NodeSpace::count(NodeType type) const {
  switch (type) {
    case NodeType::kUser: return num_users;
    case NodeType::kItem: return num_items;
    case NodeType::kEntity: return num_entities;
  }
  return 0;
}

std::int64_t NodeSpace::begin(NodeType type) const {
  switch (type) {
    case NodeType::kUser: return 0;
    case NodeType::kItem: return num_users;
    case NodeType::kEntity: return num_users + num_items;
  }
  return 0;
}

NodeType NodeSpace::typeOf(std::int64_t global) const {
  if (global < num_users) return NodeType::kUser;
  if (global < num_users + num_items) return NodeType::kItem;
  return NodeType::kEntity;
}

namespace {

void checkCsr(const Csr& csr, std::int64_t rows, std::int64_t cols, const char* what) {
  if (csr.numRows() != rows) {
    throw FormatError(fmt::format("{}: {} rows, expected {}", what, csr.numRows(), rows));
  }
  if (csr.indptr.front() != 0 || csr.indptr.back() != csr.numEdges()) {
    throw FormatError(fmt::format("{}: indptr does not span the {} edges", what, csr.numEdges()));
  }
  for (std::int64_t r = 0; r < rows; ++r) {
    if (csr.indptr[r] > csr.indptr[r + 1]) {
      throw FormatError(fmt::format("{}: indptr decreases at row {}", what, r));
    }
  }
  for (std::int32_t c : csr.indices) {
    if (c < 0 || c >= cols) throw FormatError(fmt::format("{}: index {} out of [0, {})", what, c, cols));
  }
}

void checkSplit(const std::vector<Interaction>& split, const NodeSpace& nodes, const char* what) {
  for (std::size_t k = 0; k < split.size(); ++k) {
    const Interaction& x = split[k];
    if (x.user < 0 || x.user >= nodes.num_users || x.item < 0 || x.item >= nodes.num_items) {
      throw FormatError(fmt::format("{} interaction {} ({}, {}) out of range", what, k, x.user, x.item));
    }
    if (k > 0 && !(split[k - 1] < x)) {
      throw FormatError(fmt::format("{} interactions not sorted and unique at {}", what, k));
    }
  }
}

}  // namespace

void validateDataset(const Dataset& d) {
  const NodeSpace& n = d.nodes;
  if (n.num_users < 0 || n.num_items < 0 || n.num_entities < 0) {
    throw FormatError("negative node count");
  }
  if (n.numNodes() > INT32_MAX) throw FormatError("more than 2^31-1 nodes");
  if (d.relation_names.size() < 2 || d.relation_names.size() % 2 != 0) {
    throw FormatError(fmt::format("{} relation names; expected 2 + 2 per KG relation",
                                  d.relation_names.size()));
  }
  checkCsr(d.graph, n.numNodes(), n.numNodes(), "graph");
  if (d.graph.relations.size() != d.graph.indices.size()) {
    throw FormatError("graph: relation ids and edges differ in length");
  }
  const auto num_relations = static_cast<std::int32_t>(d.relation_names.size());
  for (std::int32_t r : d.graph.relations) {
    if (r < 0 || r >= num_relations) throw FormatError(fmt::format("graph: relation id {} unknown", r));
  }
  checkSplit(d.train, n, "train");
  checkSplit(d.valid, n, "valid");
  checkSplit(d.test, n, "test");
  if (d.hasTimestamps()) {
    for (auto [split, times, what] : {std::tuple{&d.train, &d.train_times, "train"},
                                      std::tuple{&d.valid, &d.valid_times, "valid"},
                                      std::tuple{&d.test, &d.test_times, "test"}}) {
      if (times->size() != split->size()) {
        throw FormatError(fmt::format("{}: {} timestamps for {} interactions", what,
                                      times->size(), split->size()));
      }
    }
  }
  for (std::size_t k = 0; k < d.cold_items.size(); ++k) {
    const std::int32_t item = d.cold_items[k];
    if (item < 0 || item >= n.num_items || (k > 0 && d.cold_items[k - 1] >= item)) {
      throw FormatError(fmt::format("cold items not sorted, unique and in range at {}", k));
    }
  }
  for (const auto* split : {&d.train, &d.valid}) {
    for (const Interaction& x : *split) {
      if (std::binary_search(d.cold_items.begin(), d.cold_items.end(), x.item)) {
        throw FormatError(fmt::format("cold item {} has a train or valid interaction", x.item));
      }
    }
  }
  for (const Triple& t : d.triples) {
    if (t.head < 0 || t.head >= n.numNodes() || t.tail < 0 || t.tail >= n.numNodes() ||
        t.relation < 0 || t.relation >= d.numKgRelations()) {
      throw FormatError(fmt::format("triple ({}, {}, {}) out of range", t.head, t.relation, t.tail));
    }
  }
  auto checkSize = [](std::size_t got, std::int64_t want, const char* what) {
    if (static_cast<std::int64_t>(got) != want) {
      throw FormatError(fmt::format("{}: {} entries, expected {}", what, got, want));
    }
  };
  checkSize(d.user_ids.size(), n.num_users, "user ids");
  checkSize(d.item_ids.size(), n.num_items, "item ids");
  checkSize(d.entity_ids.size(), n.num_entities, "entity ids");
  checkSize(d.item_texts.size(), n.num_items, "item texts");
  checkSize(d.entity_texts.size(), n.num_entities, "entity texts");
  // Every edge u -> v must have its reverse v -> u (with the paired relation id).
  for (std::int64_t v = 0; v < n.numNodes(); ++v) {
    for (std::int64_t e = d.graph.indptr[v]; e < d.graph.indptr[v + 1]; ++e) {
      const std::int32_t u = d.graph.indices[e];
      const std::int32_t reverse = d.graph.relations[e] ^ 1;
      auto first = d.graph.indices.begin() + d.graph.indptr[u];
      auto last = d.graph.indices.begin() + d.graph.indptr[u + 1];
      auto it = std::lower_bound(first, last, static_cast<std::int32_t>(v));
      bool found = false;
      for (; it != last && *it == v; ++it) {
        if (d.graph.relations[it - d.graph.indices.begin()] == reverse) found = true;
      }
      if (!found) {
        throw FormatError(fmt::format("graph: edge {} -> {} (relation {}) has no reverse", u, v,
                                      d.graph.relations[e]));
      }
    }
  }
}

Csr userItemCsr(const std::vector<Interaction>& interactions, std::int64_t num_users) {
  Csr csr;
  csr.indptr.assign(num_users + 1, 0);
  for (const Interaction& x : interactions) ++csr.indptr[x.user + 1];
  for (std::int64_t u = 0; u < num_users; ++u) csr.indptr[u + 1] += csr.indptr[u];
  csr.indices.resize(interactions.size());
  std::vector<std::int64_t> cursor(csr.indptr.begin(), csr.indptr.end() - 1);
  for (const Interaction& x : interactions) csr.indices[cursor[x.user]++] = x.item;
  for (std::int64_t u = 0; u < num_users; ++u) {
    std::sort(csr.indices.begin() + csr.indptr[u], csr.indices.begin() + csr.indptr[u + 1]);
  }
  return csr;
}

std::vector<std::int64_t> itemDegrees(const std::vector<Interaction>& interactions,
                                      std::int64_t num_items) {
  std::vector<std::int64_t> degree(num_items, 0);
  for (const Interaction& x : interactions) ++degree[x.item];
  return degree;
}

}  // namespace kgrec
