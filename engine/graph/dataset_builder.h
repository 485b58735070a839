#pragma once
// Collects nodes, interactions, triples and texts from an importer or generator and builds a
// Dataset: deduplicates, adds reverse edges and lays the graph out as CSR.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/graph/dataset.h"

namespace kgrec {

enum class Split : std::uint8_t { kTrain = 0, kValid = 1, kTest = 2 };

struct NodeRef {
  NodeType type;
  std::int64_t index;  // local index within the type
};

// What build() merged or found, for the importer's report.
struct BuildReport {
  std::int64_t duplicate_interactions = 0;  // merged within a split
  std::int64_t duplicate_triples = 0;
  std::int64_t eval_pairs_in_train = 0;     // valid/test pairs also present in train
  std::int64_t users_without_train = 0;
  std::int64_t items_without_train = 0;
};

class DatasetBuilder {
 public:
  explicit DatasetBuilder(std::string name);

  // Node counts grow to cover every index used; these make room for nodes that have no edge.
  void ensureNodes(NodeType type, std::int64_t count);
  // Interns an original (string) id and returns its local index, creating the node on first use.
  std::int64_t intern(NodeType type, std::string_view original_id);
  std::int64_t count(NodeType type) const;

  void addInteraction(Split split, std::int64_t user, std::int64_t item);
  // With its time: a dataset has timestamps for all interactions or for none, so either every
  // interaction is added with one or none is.
  void addInteraction(Split split, std::int64_t user, std::int64_t item, std::int64_t time);
  // Interns a KG relation name and returns its index k.
  std::int32_t relation(std::string_view name);
  void addTriple(NodeRef head, std::int32_t relation, NodeRef tail);
  void setText(NodeType type, std::int64_t index, std::string text);
  void setMetadata(const std::string& key, const std::string& value);

  // Builds the dataset. Nodes created through ensureNodes() get their decimal index as the
  // original id unless intern() named them.
  Dataset build(BuildReport* report = nullptr);

 private:
  struct TypeIds {
    std::int64_t count = 0;
    std::unordered_map<std::string, std::int64_t> by_name;
    std::vector<std::string> names;  // by index, filled only for interned ids
  };
  TypeIds& ids(NodeType type);
  const TypeIds& ids(NodeType type) const;

  std::string name_;
  TypeIds users_, items_, entities_;
  std::vector<Interaction> splits_[3];
  std::vector<std::int64_t> times_[3];  // aligned with splits_, or all empty
  std::vector<std::string> relation_names_;
  std::unordered_map<std::string, std::int32_t> relation_by_name_;
  struct PendingTriple {
    NodeRef head;
    std::int32_t relation;
    NodeRef tail;
  };
  std::vector<PendingTriple> triples_;
  std::unordered_map<std::int64_t, std::string> item_texts_, entity_texts_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace kgrec
