#pragma once
// The partition book: which part owns each node and its local id there, and back, in O(1).
// Every rank loads it whole (12 bytes per node) next to its own shard. Local ids of a part's
// owned nodes are 0 .. numOwned(part) - 1, in the shard's (Cuthill-McKee) order; halo nodes
// have shard-specific local ids after those (see Shard).

#include <cstdint>
#include <string>
#include <vector>

namespace kgrec {

constexpr int kPartitionBookFormatVersion = 1;
constexpr const char* kPartitionBookMagic = "kgrec-partition-book";
constexpr const char* kPartitionBookFile = "book.h5";

struct NodeLocation {
  std::int32_t part;
  std::int32_t local;
  bool operator==(const NodeLocation& o) const { return part == o.part && local == o.local; }
};

class PartitionBook {
 public:
  PartitionBook() = default;
  // owned[p] lists the global ids part p owns, in local-id order; every node of [0, num_nodes)
  // must appear exactly once (ConfigError otherwise).
  static PartitionBook fromOwnedNodes(std::int64_t num_nodes,
                                      const std::vector<std::vector<std::int32_t>>& owned);
  // Reads PARTS/book.h5; FormatError when missing, of another version or inconsistent.
  static PartitionBook load(const std::string& parts_dir);
  // Writes the book as one HDF5 file (the caller makes it atomic).
  void save(const std::string& path) const;

  std::int64_t numNodes() const { return static_cast<std::int64_t>(part_of_.size()); }
  std::int32_t numParts() const { return static_cast<std::int32_t>(part_begin_.size()) - 1; }
  std::int64_t numOwned(std::int32_t part) const { return part_begin_[part + 1] - part_begin_[part]; }

  // O(1) lookups; ids must be in range (global in [0, numNodes), local in [0, numOwned(part))).
  std::int32_t partOf(std::int64_t global) const { return part_of_[global]; }
  std::int32_t localId(std::int64_t global) const { return local_of_[global]; }
  NodeLocation locate(std::int64_t global) const { return {part_of_[global], local_of_[global]}; }
  std::int32_t globalId(std::int32_t part, std::int64_t local) const {
    return global_ids_[part_begin_[part] + local];
  }
  // Part `part`'s owned nodes by local id.
  std::vector<std::int32_t> ownedNodes(std::int32_t part) const {
    return {global_ids_.begin() + part_begin_[part], global_ids_.begin() + part_begin_[part + 1]};
  }
  const std::vector<std::int32_t>& partOfAll() const { return part_of_; }

 private:
  std::vector<std::int32_t> part_of_;     // by global id
  std::vector<std::int32_t> local_of_;    // by global id
  std::vector<std::int64_t> part_begin_;  // numParts + 1 offsets into global_ids_
  std::vector<std::int32_t> global_ids_;  // parts' owned nodes, concatenated in local order
};

}  // namespace kgrec
