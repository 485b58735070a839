#pragma once
// `kgrec train DATA --model graph-filter`: the training-free filters of models/graph_filter.h
// fitted in one pass instead of epochs, ranked by the same distributed evaluator as every
// model (with the popularity baseline beside it), the same metrics lines (one "epoch" whose
// epoch_seconds is the fit) and a checkpoint that eval, recommend and similar read.
//
// On P ranks (a partition folder) each rank scores its own users. The filter's item side is
// fitted on every rank from every user's training items, gathered once: R~ is sparse
// (O(interactions) memory per rank), the low-rank part is [items, rank], and a dense
// item-item matrix (items^2 floats) is taken only where it fits (models/graph_filter.h).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "comm/process_group.h"
#include "engine/graph/dataset.h"
#include "engine/train/checkpoint.h"
#include "engine/train/train_options.h"
#include "engine/train/trainer.h"
#include "models/graph_filter.h"

namespace kgrec {

// The models/graph_filter.h options of a --filter preset with its overrides; the preset's
// rank is capped at `max_rank` (min(users, items)), an explicit --filter-rank is not.
GraphFilterOptions graphFilterOptions(const FilterOptions& filter, std::uint64_t seed,
                                      std::int64_t max_rank);

class GraphFilterTrainer {
 public:
  // `options` resolved (resolveTrainOptions).
  GraphFilterTrainer(TrainOptions options, std::shared_ptr<ProcessGroup> group);
  // Collective: fits, evaluates, writes the metrics lines and the checkpoint (--ckpt; rank 0).
  TrainResult run();

 private:
  TrainOptions o_;
  std::shared_ptr<ProcessGroup> group_;
};

// The filter of a graph-filter checkpoint (its manifest `m`) over `train`, every training
// interaction of the dataset it names (of its `nodes`), refitted from the stored SVD.
// FormatError when the checkpoint's state file is missing or does not fit.
GraphFilter loadGraphFilter(const std::string& dir, const CheckpointManifest& m,
                            const std::vector<Interaction>& train, const NodeSpace& nodes);

// The metrics of a graph-filter checkpoint, recomputed in this process, with the popularity
// baseline's under "popularity_baseline"; `exposure_out` as in evaluateCheckpoint.
nlohmann::json evaluateGraphFilterCheckpoint(const std::string& dir, const CheckpointManifest& m,
                                             const std::vector<std::int64_t>& ks,
                                             const std::string& exposure_out);

}  // namespace kgrec
