#pragma once
// Reading and writing a Dataset as one HDF5 file; docs/format.md describes the layout.

#include <cstdint>
#include <string>

#include "engine/graph/dataset.h"

namespace kgrec {

// Bumped on any change that an older reader would misread; readers refuse other versions.
constexpr int kDatasetFormatVersion = 1;
constexpr const char* kDatasetMagic = "kgrec-dataset";

// Writes atomically (a temporary sibling, then rename): `path` either keeps its old content
// or holds the complete new file. Refuses (ConfigError) when `path` exists and !overwrite.
void writeDataset(const Dataset& dataset, const std::string& path, bool overwrite);

// Reads and validates a dataset; FormatError when the file is missing, not a kgrec dataset,
// of another format version, damaged or inconsistent. Groups it does not know (such as
// /features) are ignored.
Dataset readDataset(const std::string& path);

// Counts only, without loading the arrays (for `kgrec info`-style reports and planning).
struct DatasetSummary {
  std::string name;
  std::int64_t num_users = 0;
  std::int64_t num_items = 0;
  std::int64_t num_entities = 0;
  std::int64_t num_edges = 0;  // CSR entries, reverses included
  std::int32_t num_kg_relations = 0;
  std::int64_t num_triples = 0;
  std::int64_t num_train = 0;
  std::int64_t num_valid = 0;
  std::int64_t num_test = 0;
};
DatasetSummary readDatasetSummary(const std::string& path);

}  // namespace kgrec
