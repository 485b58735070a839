#pragma once
// Full-ranking evaluation on P ranks (or one): each rank ranks every item for its own test
// users and the metric sums are all-reduced, so every rank returns the metrics of all test
// users. Models go through full-graph inference (FullGraphPropagation) whatever they were
// trained with; the popularity baseline through the same ranking; a model without node
// vectors (a graph filter) through its own scorer of users. The beyond-accuracy
// metrics use the global training counts, and every item's LM features (gathered from their
// owners) when the dataset has them.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "engine/eval/ranking_evaluator.h"
#include "engine/train/full_graph_propagation.h"

namespace kgrec {

class DistributedEvaluator {
 public:
  // Collective (gathers the items' LM features). The shard, the statistics and the
  // propagation must outlive the evaluator.
  DistributedEvaluator(std::shared_ptr<ProcessGroup> group, const Shard& shard,
                       const GraphStats& stats, const FullGraphPropagation& propagation,
                       std::vector<std::int64_t> ks);
  // The same for models that score users themselves (rankUsers only).
  DistributedEvaluator(std::shared_ptr<ProcessGroup> group, const Shard& shard,
                       const GraphStats& stats, std::vector<std::int64_t> ks);

  // Collective: the metrics of the model whose owned layer-0 rows are `h0`.
  nlohmann::json evaluate(const BlockGnn& model, const torch::Tensor& h0) const;
  // Collective: the metrics of ranking items by their training interactions.
  nlohmann::json evaluatePopularity() const;
  // The same two as sums over every rank's users (the per-item exposure included).
  RankingEvalResult rankModel(const BlockGnn& model, const torch::Tensor& h0) const;
  RankingEvalResult rankPopularity() const;
  // Collective: ranks this rank's own test users with `scorer` (global user index -> scores
  // over every item) and sums over ranks.
  RankingEvalResult rankUsers(const UserScorer& scorer) const;

  // The items' global training counts, tail and features.
  const ItemCatalogue& catalogue() const { return *evaluator_->catalogue(); }

 private:
  std::shared_ptr<ProcessGroup> group_;
  const Shard& shard_;
  const GraphStats& stats_;
  const FullGraphPropagation* propagation_;  // null: rankUsers only
  Csr train_items_, test_items_;
  std::unique_ptr<RankingEvaluator> evaluator_;
};

// Collective: the metrics of `ranked` (by `evaluator`) with the popularity baseline's under
// "popularity_baseline"; with `exposure_out`, also writes each item's exposure in both top-K
// lists there (engine/eval/exposure_table.h). What `kgrec eval` prints for any checkpoint.
nlohmann::json metricsWithBaseline(const DistributedEvaluator& evaluator,
                                   const RankingEvalResult& ranked, const std::string& exposure_out);

}  // namespace kgrec
