#pragma once
// `kgrec train DATA --model graph-filter`: the training-free filters of models/graph_filter.h
// fitted in one pass instead of epochs, ranked by the same evaluator as every model
// (RankingEvaluator, with the popularity baseline beside it), the same metrics lines (one
// "epoch" whose epoch_seconds is the fit) and a checkpoint that `kgrec eval` evaluates.
// One process only: a partition folder or several ranks are refused.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "comm/process_group.h"
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
  // `options` resolved (resolveTrainOptions). ConfigError for a partition folder or a group of
  // more than one rank.
  GraphFilterTrainer(TrainOptions options, const ProcessGroup& group);
  // Fits, evaluates, writes the metrics lines and the checkpoint (--ckpt).
  TrainResult run();

 private:
  TrainOptions o_;
};

// The metrics of a graph-filter checkpoint (its manifest `m`), recomputed in this process.
nlohmann::json evaluateGraphFilterCheckpoint(const std::string& dir, const CheckpointManifest& m,
                                             const std::vector<std::int64_t>& ks);

}  // namespace kgrec
