#pragma once
// Splits a dataset's heterogeneous graph into P parts, one per rank: METIS k-way with two
// balance constraints (nodes, training interactions), or a seeded random baseline.
// docs/partition.md describes the output folder (shards, partition book, manifest).

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/graph/dataset.h"

namespace kgrec {

enum class PartitionMethod { kMetis, kRandom };

// "metis" | "random"; ConfigError otherwise.
PartitionMethod parsePartitionMethod(const std::string& name);
const char* partitionMethodName(PartitionMethod method);

struct PartitionOptions {
  std::int64_t parts = 2;
  PartitionMethod method = PartitionMethod::kMetis;
  std::uint64_t seed = 1;
  bool force = false;  // replace an existing output folder (one that holds a manifest)
};

// Owner part of every node (by global id), and what computing it cost.
struct PartAssignment {
  std::vector<std::int32_t> part_of;
  double metis_seconds = 0.0;           // inside METIS_PartGraphKway only
  std::int64_t metis_objective = -1;    // METIS's weighted edge cut; -1 when METIS did not run
};

// METIS: k-way on the symmetrised graph (self-loops dropped, parallel relations merged into
// one edge weighted by their number, so METIS's cut is exactly the count of cut graph edges),
// vertex weights (1, training interactions the node's part will own as seeds). Random: a
// seeded permutation dealt round-robin, so node counts differ by at most one.
// ConfigError when parts < 1 or parts > number of nodes. Deterministic for a given seed.
PartAssignment assignParts(const Dataset& dataset, std::int64_t parts, PartitionMethod method,
                           std::uint64_t seed);

// Reads the dataset, partitions it, writes PARTS/part-<k>.h5, PARTS/book.h5 and
// PARTS/manifest.json, and returns the manifest. Atomic: everything is written into a temporary
// folder beside `out_dir` and renamed onto it at the end, so `out_dir` holds either a complete
// partition or nothing new. ConfigError for bad options or an existing `out_dir` without
// `force`; FormatError for a missing, damaged or other-version dataset.
nlohmann::json partitionDataset(const std::string& dataset_path, const std::string& out_dir,
                                const PartitionOptions& options);

}  // namespace kgrec
