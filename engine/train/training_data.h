#pragma once
// What one rank trains on: its part of the graph (a shard), the partition book, the
// whole-graph statistics, and the dataset file it all came from. A dataset file is one part
// (the whole graph, owned by rank 0 of a group of one); a partition folder gives rank r its
// part r.

#include <cstdint>
#include <string>

#include <torch/types.h>

#include "comm/process_group.h"
#include "partition/partition_book.h"
#include "partition/shard.h"
#include "sampler/neighbor_sampler.h"

namespace kgrec {

struct TrainingData {
  std::string dataset_path;  // the dataset file (for a folder: the one it was cut from)
  Shard shard;
  PartitionBook book;
  GraphStats stats;
};

// Collective (gathers the statistics). `input` is a dataset file or a partition folder;
// ConfigError when a folder's part count is not the group's size (before any collective, on
// every rank) or a file is given to more than one rank. `relations` ("all" | "interactions")
// keeps only those edges in the shard's graph, before the degrees are counted.
TrainingData loadTrainingData(const std::string& input, ProcessGroup& group,
                              const std::string& relations);

// The whole dataset as one part, owned by part 0 (local ids in reverse Cuthill-McKee order).
TrainingData wholeDatasetAsOnePart(const std::string& dataset_path, ProcessGroup& group,
                                   const std::string& relations);

// A part's owned LM features [num_owned, feature_dim] (0 columns when it has none).
torch::Tensor ownedFeatures(const Shard& shard);

}  // namespace kgrec
