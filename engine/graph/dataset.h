#pragma once
// The in-memory form of a kgrec dataset: a typed node space (users | items | entities), the
// heterogeneous graph as CSR with a relation id per edge, interaction splits, original ids
// and texts. docs/format.md describes how each field is stored on disk (engine/store).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kgrec {

enum class NodeType : std::uint8_t { kUser = 0, kItem = 1, kEntity = 2 };
const char* nodeTypeName(NodeType type);

// Global node ids are laid out as [users | items | entities]; each type also has a local
// index from 0. Items and KG entities are distinct types: a KG entity that is an item
// (as in KGAT data) is represented by the item node itself.
struct NodeSpace {
  std::int64_t num_users = 0;
  std::int64_t num_items = 0;
  std::int64_t num_entities = 0;

  std::int64_t numNodes() const { return num_users + num_items + num_entities; }
  std::int64_t count(NodeType type) const;
  std::int64_t begin(NodeType type) const;  // first global id of the type
  std::int64_t globalId(NodeType type, std::int64_t local) const { return begin(type) + local; }
  NodeType typeOf(std::int64_t global) const;
  std::int64_t localIndex(std::int64_t global) const { return global - begin(typeOf(global)); }
};

// Compressed sparse rows: row r's entries are indices[indptr[r] .. indptr[r+1]).
struct Csr {
  std::vector<std::int64_t> indptr;    // num_rows + 1
  std::vector<std::int32_t> indices;   // num_edges
  std::vector<std::int32_t> relations; // num_edges, or empty where a CSR carries no relations

  std::int64_t numRows() const { return indptr.empty() ? 0 : static_cast<std::int64_t>(indptr.size()) - 1; }
  std::int64_t numEdges() const { return static_cast<std::int64_t>(indices.size()); }
  std::int64_t degree(std::int64_t row) const { return indptr[row + 1] - indptr[row]; }
};

// Relation ids of the heterogeneous graph. Every relation comes with its reverse, so the
// graph is symmetric as a set of node pairs and messages can flow both ways.
//   0: user -> item ("interacts"),  1: item -> user ("interacted_by")
//   2 + 2k: KG relation k, head -> tail;  3 + 2k: its reverse, tail -> head
constexpr std::int32_t kRelInteract = 0;
constexpr std::int32_t kRelInteractReverse = 1;
constexpr std::int32_t kgForwardRelation(std::int32_t k) { return 2 + 2 * k; }
constexpr std::int32_t kgReverseRelation(std::int32_t k) { return 3 + 2 * k; }

struct Interaction {
  std::int32_t user;  // local user index
  std::int32_t item;  // local item index
  bool operator==(const Interaction& o) const { return user == o.user && item == o.item; }
  bool operator<(const Interaction& o) const {
    return user != o.user ? user < o.user : item < o.item;
  }
};

struct Triple {
  std::int32_t head;      // global node id
  std::int32_t relation;  // KG relation index k (0-based, not the CSR relation id)
  std::int32_t tail;      // global node id
};

struct Dataset {
  std::string name;
  NodeSpace nodes;
  // Names of the CSR relation ids (index = relation id), reverses included.
  std::vector<std::string> relation_names;
  // The heterogeneous graph over global node ids. Row v holds v's in-edges u -> v with their
  // relation ids; rows are sorted by (u, relation) and hold no duplicates. Built from the
  // training interactions and the KG only: validation and test pairs never enter it.
  Csr graph;
  std::vector<Triple> triples;  // the KG as imported (deduplicated)
  std::vector<Interaction> train, valid, test;  // each sorted and deduplicated
  // Optional time of each interaction (an integer, e.g. Unix seconds), aligned with the split
  // of the same name; all three are empty when the source had no timestamps. A pair that
  // occurred several times keeps its earliest time.
  std::vector<std::int64_t> train_times, valid_times, test_times;
  // Items held out of training on purpose (cold start): sorted local item indices, none of
  // which appears in train or valid. Evaluation reports them apart from the warm items.
  std::vector<std::int32_t> cold_items;
  // Original ids as they appeared in the input, by local index.
  std::vector<std::string> user_ids, item_ids, entity_ids;
  // Texts by local index; an empty string means "no text".
  std::vector<std::string> item_texts, entity_texts;
  // Free-form provenance: importer, source files, generator settings, seed.
  std::map<std::string, std::string> metadata;

  bool hasTimestamps() const {
    return !train_times.empty() || !valid_times.empty() || !test_times.empty();
  }
  std::int32_t numKgRelations() const {
    return static_cast<std::int32_t>((relation_names.size() - 2) / 2);
  }
};

// Checks every invariant above (sizes, ranges, sortedness, symmetry of the graph); throws
// FormatError naming the first violation. Used after loading and in tests.
void validateDataset(const Dataset& dataset);

// Items of each user (row = local user index, sorted item indices), from interaction pairs.
Csr userItemCsr(const std::vector<Interaction>& interactions, std::int64_t num_users);

// Number of interactions of each item, from interaction pairs.
std::vector<std::int64_t> itemDegrees(const std::vector<Interaction>& interactions,
                                      std::int64_t num_items);

}  // namespace kgrec
