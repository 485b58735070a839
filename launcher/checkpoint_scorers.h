#pragma once
// How a checkpoint ranks items, whatever its model: for users (`kgrec recommend`, the demo's
// top items) and for items (`kgrec similar`). A model with node vectors scores by inner
// products of its final vectors (launcher/checkpoint_vectors.h); a graph filter, which has
// none, by filtering each user's training items, and an item by the filter's response to that
// item alone (models/graph_filter.h).

#include <string>

#include "comm/process_group.h"
#include "engine/eval/ranking_evaluator.h"
#include "engine/graph/dataset.h"

namespace kgrec {

struct CheckpointScorers {
  Dataset dataset;  // the dataset file the run trained on
  // User indices -> [users, num_items] scores (larger is better).
  UserScorer users;
  // Item indices -> [items, num_items] similarities to every item.
  UserScorer items;
  // What `items` scores are: "cosine" (of final vectors) or "filter_weight" (the graph
  // filter's item-item weight).
  std::string item_similarity;
};

// Collective over `group` (see loadCheckpointVectors); a graph filter is rebuilt on every
// rank from the checkpoint's stored state. FormatError for a folder that is no complete
// checkpoint.
CheckpointScorers loadCheckpointScorers(const std::string& checkpoint_dir, ProcessGroup& group);

}  // namespace kgrec
