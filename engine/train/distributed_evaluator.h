#pragma once
// Full-ranking evaluation on P ranks (or one): each rank ranks every item for its own test
// users and the metric sums are all-reduced, so every rank returns the metrics of all test
// users. Models go through full-graph inference (FullGraphPropagation) whatever they were
// trained with; the popularity baseline through the same ranking. The beyond-accuracy
// metrics use the global training counts, and every item's LM features (gathered from their
// owners) when the dataset has them.

#include <cstdint>
#include <memory>
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

  // Collective: the metrics of the model whose owned layer-0 rows are `h0`.
  nlohmann::json evaluate(const BlockGnn& model, const torch::Tensor& h0) const;
  // Collective: the metrics of ranking items by their training interactions.
  nlohmann::json evaluatePopularity() const;
  // The same two as sums over every rank's users (the per-item exposure included).
  RankingEvalResult rankModel(const BlockGnn& model, const torch::Tensor& h0) const;
  RankingEvalResult rankPopularity() const;

  // The items' global training counts, tail and features.
  const ItemCatalogue& catalogue() const { return *evaluator_->catalogue(); }

 private:
  // Collective: ranks the owned test users with `scorer` (by user index) and sums over ranks.
  RankingEvalResult rank(const UserScorer& scorer) const;

  std::shared_ptr<ProcessGroup> group_;
  const Shard& shard_;
  const GraphStats& stats_;
  const FullGraphPropagation& propagation_;
  Csr train_items_, test_items_;
  std::unique_ptr<RankingEvaluator> evaluator_;
};

}  // namespace kgrec
