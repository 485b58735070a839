#include "partition/shard.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "engine/common/error.h"

namespace kgrec {
namespace {

struct SplitField {
  const char* name;
  std::vector<Interaction> Shard::*shard_field;
  const std::vector<Interaction> Dataset::*dataset_field;
};
constexpr SplitField kSplits[] = {{"train", &Shard::train, &Dataset::train},
                                  {"valid", &Shard::valid, &Dataset::valid},
                                  {"test", &Shard::test, &Dataset::test}};

std::string splitGroup(const char* split) { return std::string("/interactions/") + split; }

std::string nodeText(const Dataset& d, std::int64_t global) {
  switch (d.nodes.typeOf(global)) {
    case NodeType::kItem: return d.item_texts[d.nodes.localIndex(global)];
    case NodeType::kEntity: return d.entity_texts[d.nodes.localIndex(global)];
    case NodeType::kUser: break;
  }
  return {};
}

const std::string& originalId(const Dataset& d, std::int64_t global) {
  const std::int64_t local = d.nodes.localIndex(global);
  switch (d.nodes.typeOf(global)) {
    case NodeType::kUser: return d.user_ids[local];
    case NodeType::kItem: return d.item_ids[local];
    case NodeType::kEntity: break;
  }
  return d.entity_ids[local];
}

[[noreturn]] void corrupt(const std::string& path, const std::string& what) {
  throw FormatError(fmt::format("{}: inconsistent shard: {}; re-run kgrec partition", path, what));
}

}  // namespace

std::string shardFileName(std::int32_t part) { return fmt::format("part-{}.h5", part); }

// /features/lm when the dataset has it: rows are global ids, or items then entities (users
// have no text); any other row count is refused rather than guessed.
std::optional<NodeFeatures> readNodeFeatures(const std::string& path, const NodeSpace& nodes) {
  const Hdf5File f = Hdf5File::openRead(path);
  if (!f.has("/features/lm")) return std::nullopt;
  NodeFeatures features;
  features.matrix = f.readMatrix("/features/lm");
  const std::int64_t rows = features.matrix.rows;
  if (rows == nodes.numNodes()) {
    features.first_node = 0;
  } else if (rows == nodes.num_items + nodes.num_entities) {
    features.first_node = nodes.num_users;
  } else {
    throw FormatError(fmt::format(
        "{}: /features/lm has {} rows; expected one per node ({}) or per item and entity ({})",
        path, rows, nodes.numNodes(), nodes.num_items + nodes.num_entities));
  }
  return features;
}

Csr ownedInEdgesByGlobalId(const Shard& shard) {
  Csr out;
  out.indptr = shard.graph.indptr;
  out.indices.resize(shard.graph.indices.size());
  out.relations.resize(shard.graph.indices.size());
  std::vector<std::pair<std::int32_t, std::int32_t>> row;
  for (std::int64_t v = 0; v < shard.graph.numRows(); ++v) {
    row.clear();
    for (std::int64_t e = shard.graph.indptr[v]; e < shard.graph.indptr[v + 1]; ++e) {
      row.emplace_back(shard.global_ids[shard.graph.indices[e]], shard.graph.relations[e]);
    }
    std::sort(row.begin(), row.end());
    for (std::size_t k = 0; k < row.size(); ++k) {
      out.indices[shard.graph.indptr[v] + k] = row[k].first;
      out.relations[shard.graph.indptr[v] + k] = row[k].second;
    }
  }
  return out;
}

Shard buildShard(const Dataset& d, const PartitionBook& book, std::int32_t part,
                 const NodeFeatures* features) {
  const Csr& g = d.graph;
  Shard s;
  s.part = part;
  s.num_parts = book.numParts();
  s.dataset_name = d.name;
  s.nodes = d.nodes;
  s.relation_names = d.relation_names;
  s.global_ids = book.ownedNodes(part);
  s.num_owned = static_cast<std::int64_t>(s.global_ids.size());

  std::vector<std::int32_t> halo;
  for (std::int64_t a = 0; a < s.num_owned; ++a) {
    const std::int32_t v = s.global_ids[a];
    for (std::int64_t k = g.indptr[v]; k < g.indptr[v + 1]; ++k) {
      if (book.partOf(g.indices[k]) != part) halo.push_back(g.indices[k]);
    }
  }
  std::sort(halo.begin(), halo.end());
  halo.erase(std::unique(halo.begin(), halo.end()), halo.end());
  for (const std::int32_t u : halo) {
    s.global_ids.push_back(u);
    s.halo_owner.push_back(book.partOf(u));
    s.halo_owner_local.push_back(book.localId(u));
  }

  std::vector<std::int32_t> local(g.numRows(), -1);
  for (std::int64_t a = 0; a < s.numLocal(); ++a) local[s.global_ids[a]] = static_cast<std::int32_t>(a);
  s.graph.indptr.reserve(s.num_owned + 1);
  s.graph.indptr.push_back(0);
  std::vector<std::pair<std::int32_t, std::int32_t>> row;  // (local source, relation)
  for (std::int64_t a = 0; a < s.num_owned; ++a) {
    const std::int32_t v = s.global_ids[a];
    row.clear();
    for (std::int64_t k = g.indptr[v]; k < g.indptr[v + 1]; ++k) {
      row.emplace_back(local[g.indices[k]], g.relations[k]);
    }
    std::sort(row.begin(), row.end());
    for (const auto& [source, relation] : row) {
      s.graph.indices.push_back(source);
      s.graph.relations.push_back(relation);
    }
    s.graph.indptr.push_back(s.graph.numEdges());
  }

  for (const SplitField& split : kSplits) {
    for (const Interaction& x : d.*split.dataset_field) {
      if (book.partOf(d.nodes.globalId(NodeType::kUser, x.user)) == part) {
        (s.*split.shard_field).push_back(x);
      }
    }
  }
  s.cold_items = d.cold_items;
  for (std::int64_t a = 0; a < s.num_owned; ++a) {
    s.original_ids.push_back(originalId(d, s.global_ids[a]));
    s.texts.push_back(nodeText(d, s.global_ids[a]));
  }

  if (features != nullptr) {
    const FloatMatrix& m = features->matrix;
    s.lm.rows = s.numLocal();
    s.lm.cols = m.cols;
    s.lm.data.assign(static_cast<std::size_t>(s.lm.rows * s.lm.cols), 0.0f);
    for (std::int64_t a = 0; a < s.numLocal(); ++a) {
      const std::int64_t r = s.global_ids[a] - features->first_node;
      if (r < 0 || r >= m.rows) continue;
      std::copy_n(m.data.begin() + r * m.cols, m.cols, s.lm.data.begin() + a * m.cols);
    }
  }
  return s;
}

void writeShard(const Shard& s, const std::string& path) {
  Hdf5File f = Hdf5File::create(path);
  f.setAttribute("/", "magic", kShardMagic);
  f.setAttribute("/", "format_version", std::int64_t{kShardFormatVersion});
  f.setAttribute("/", "part", std::int64_t{s.part});
  f.setAttribute("/", "num_parts", std::int64_t{s.num_parts});
  f.setAttribute("/", "dataset_name", s.dataset_name);
  f.setAttribute("/nodes", "num_users", s.nodes.num_users);
  f.setAttribute("/nodes", "num_items", s.nodes.num_items);
  f.setAttribute("/nodes", "num_entities", s.nodes.num_entities);
  f.setAttribute("/nodes", "num_owned", s.num_owned);
  f.setAttribute("/nodes", "num_halo", s.numHalo());
  f.writeVector("/nodes/global_ids", s.global_ids);
  f.writeVector("/nodes/halo_owner", s.halo_owner);
  f.writeVector("/nodes/halo_owner_local", s.halo_owner_local);
  f.writeStrings("/nodes/original_ids", s.original_ids);
  f.writeStrings("/text/nodes", s.texts);
  f.writeVector("/graph/indptr", s.graph.indptr);
  f.writeVector("/graph/indices", s.graph.indices);
  f.writeVector("/graph/relations", s.graph.relations);
  f.writeStrings("/relations/names", s.relation_names);
  for (const SplitField& split : kSplits) {
    const std::vector<Interaction>& pairs = s.*split.shard_field;
    std::vector<std::int32_t> users(pairs.size()), items(pairs.size());
    for (std::size_t k = 0; k < pairs.size(); ++k) {
      users[k] = pairs[k].user;
      items[k] = pairs[k].item;
    }
    f.writeVector(splitGroup(split.name) + "/user", users);
    f.writeVector(splitGroup(split.name) + "/item", items);
  }
  if (!s.cold_items.empty()) f.writeVector("/interactions/cold_items", s.cold_items);
  if (s.lm.cols > 0) f.writeMatrix("/features/lm", s.lm.data.data(), s.lm.rows, s.lm.cols);
  f.close();
}

Shard readShard(const std::string& path) {
  const Hdf5File f = Hdf5File::openRead(path);
  if (!f.hasAttribute("/", "magic") || f.readStringAttribute("/", "magic") != kShardMagic) {
    throw FormatError(fmt::format("{}: not a kgrec shard; create shards with kgrec partition", path));
  }
  const std::int64_t version = f.readIntAttribute("/", "format_version");
  if (version != kShardFormatVersion) {
    throw FormatError(fmt::format("{}: shard format version {}, this kgrec reads {}; re-run kgrec partition",
                                  path, version, kShardFormatVersion));
  }
  Shard s;
  s.part = static_cast<std::int32_t>(f.readIntAttribute("/", "part"));
  s.num_parts = static_cast<std::int32_t>(f.readIntAttribute("/", "num_parts"));
  s.dataset_name = f.readStringAttribute("/", "dataset_name");
  s.nodes.num_users = f.readIntAttribute("/nodes", "num_users");
  s.nodes.num_items = f.readIntAttribute("/nodes", "num_items");
  s.nodes.num_entities = f.readIntAttribute("/nodes", "num_entities");
  s.num_owned = f.readIntAttribute("/nodes", "num_owned");
  s.global_ids = f.readVector<std::int32_t>("/nodes/global_ids");
  s.halo_owner = f.readVector<std::int32_t>("/nodes/halo_owner");
  s.halo_owner_local = f.readVector<std::int32_t>("/nodes/halo_owner_local");
  s.original_ids = f.readStrings("/nodes/original_ids");
  s.texts = f.readStrings("/text/nodes");
  s.graph.indptr = f.readVector<std::int64_t>("/graph/indptr");
  s.graph.indices = f.readVector<std::int32_t>("/graph/indices");
  s.graph.relations = f.readVector<std::int32_t>("/graph/relations");
  s.relation_names = f.readStrings("/relations/names");
  for (const SplitField& split : kSplits) {
    const auto users = f.readVector<std::int32_t>(splitGroup(split.name) + "/user");
    const auto items = f.readVector<std::int32_t>(splitGroup(split.name) + "/item");
    if (users.size() != items.size()) corrupt(path, std::string(split.name) + " columns differ in length");
    auto& pairs = s.*split.shard_field;
    for (std::size_t k = 0; k < users.size(); ++k) {
      if (users[k] < 0 || users[k] >= s.nodes.num_users || items[k] < 0 || items[k] >= s.nodes.num_items) {
        corrupt(path, fmt::format("{} pair {} out of range", split.name, k));
      }
      pairs.push_back({users[k], items[k]});
    }
  }
  if (f.has("/interactions/cold_items")) {
    s.cold_items = f.readVector<std::int32_t>("/interactions/cold_items");
  }
  if (f.has("/features/lm")) s.lm = f.readMatrix("/features/lm");

  // Checks that make every id usable as an index without further tests.
  const std::int64_t local = s.numLocal();
  if (s.part < 0 || s.part >= s.num_parts) corrupt(path, "part out of range");
  if (s.num_owned < 0 || s.num_owned > local) corrupt(path, "num_owned out of range");
  if (static_cast<std::int64_t>(s.halo_owner.size()) != s.numHalo() ||
      static_cast<std::int64_t>(s.halo_owner_local.size()) != s.numHalo()) {
    corrupt(path, "halo columns do not match num_halo");
  }
  if (static_cast<std::int64_t>(s.original_ids.size()) != s.num_owned ||
      static_cast<std::int64_t>(s.texts.size()) != s.num_owned) {
    corrupt(path, "ids or texts do not match num_owned");
  }
  for (const std::int32_t v : s.global_ids) {
    if (v < 0 || v >= s.nodes.numNodes()) corrupt(path, fmt::format("global id {} out of range", v));
  }
  for (const std::int32_t p : s.halo_owner) {
    if (p < 0 || p >= s.num_parts || p == s.part) corrupt(path, fmt::format("halo owner {} invalid", p));
  }
  const Csr& g = s.graph;
  if (g.indptr.empty() || g.numRows() != s.num_owned || g.indptr.front() != 0 || g.indptr.back() != g.numEdges() ||
      g.relations.size() != g.indices.size() || !std::is_sorted(g.indptr.begin(), g.indptr.end())) {
    corrupt(path, "graph CSR is malformed");
  }
  for (const std::int32_t u : g.indices) {
    if (u < 0 || u >= local) corrupt(path, fmt::format("edge source {} out of range", u));
  }
  if (s.lm.cols > 0 && s.lm.rows != local) corrupt(path, "features/lm rows do not match the local nodes");
  return s;
}

}  // namespace kgrec
