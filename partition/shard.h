#pragma once
// One part of a partitioned dataset, as a rank loads it: its owned nodes, the in-edges of
// those nodes, a halo of remote 1-hop neighbours with their owners, its texts and features,
// and the interactions of its users. docs/partition.md gives the file layout field by field.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/graph/dataset.h"
#include "engine/store/hdf5_file.h"
#include "partition/partition_book.h"

namespace kgrec {

constexpr int kShardFormatVersion = 1;
constexpr const char* kShardMagic = "kgrec-shard";

// "part-<k>.h5"
std::string shardFileName(std::int32_t part);

// Local ids: [0, num_owned) are the owned nodes in the partition book's order, then
// [num_owned, num_owned + numHalo()) the halo nodes, ascending by global id.
struct Shard {
  std::int32_t part = 0;
  std::int32_t num_parts = 1;
  std::string dataset_name;
  NodeSpace nodes;  // the whole dataset's node counts
  std::int64_t num_owned = 0;
  std::vector<std::int32_t> global_ids;        // by local id, owned then halo
  std::vector<std::int32_t> halo_owner;        // by halo index (local id - num_owned)
  std::vector<std::int32_t> halo_owner_local;  // the halo node's local id at its owner
  // num_owned rows: row v holds every in-edge u -> v of owned node v (sources as local ids),
  // sorted by (source, relation), with the dataset's relation ids.
  Csr graph;
  std::vector<std::string> relation_names;
  // The interactions whose user this part owns; local indices within their type, as in the
  // dataset file, each split sorted.
  std::vector<Interaction> train, valid, test;
  std::vector<std::int32_t> cold_items;   // the dataset's cold items (all of them), sorted
  std::vector<std::string> original_ids;  // by owned local id
  std::vector<std::string> texts;         // by owned local id; "" for users and missing texts
  // Frozen LM features, one row per local node (owned then halo); nodes the dataset has no
  // row for get zeros. Empty (0 x 0) when the dataset has no /features/lm.
  FloatMatrix lm;

  std::int64_t numHalo() const { return static_cast<std::int64_t>(global_ids.size()) - num_owned; }
  std::int64_t numLocal() const { return static_cast<std::int64_t>(global_ids.size()); }
};

// Frozen LM features of the dataset: row r belongs to global node first_node + r.
struct NodeFeatures {
  FloatMatrix matrix;
  std::int64_t first_node = 0;
};

// The dataset's /features/lm, or nothing when it has none. Rows are global ids, or items then
// entities (users have no text); FormatError for any other row count.
std::optional<NodeFeatures> readNodeFeatures(const std::string& dataset_path, const NodeSpace& nodes);

// The owned nodes' in-edges (row = owned local id, as shard.graph) with global source ids,
// each row sorted by (source, relation) as in the dataset: a node's row then depends on its
// edges only, not on the partition's local numbering.
Csr ownedInEdgesByGlobalId(const Shard& shard);

// Cuts part `part`'s shard out of the dataset. `features` may be null.
Shard buildShard(const Dataset& dataset, const PartitionBook& book, std::int32_t part,
                 const NodeFeatures* features);

// Writes a shard as one HDF5 file (the caller makes it atomic).
void writeShard(const Shard& shard, const std::string& path);
// Reads and checks a shard; FormatError when missing, not a shard, of another version or
// inconsistent (ids out of range, ragged columns).
Shard readShard(const std::string& path);

}  // namespace kgrec
