#pragma once
// Full-ranking evaluation: every item is scored for each test user, the user's training
// items are masked out, and the top K are compared with the user's test items
// (engine/eval/metrics.h). The same code evaluates any scorer: a trained model, or the
// popularity baseline.

#include <functional>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "engine/eval/beyond_accuracy.h"
#include "engine/eval/metrics.h"
#include "engine/graph/dataset.h"

namespace kgrec {

// Scores [batch, num_items] for a batch of local user indices (an int64 tensor).
using UserScorer = std::function<torch::Tensor(const torch::Tensor& users)>;

struct RankingEvalOptions {
  std::vector<std::int64_t> ks = {20};
  std::int64_t batch_users = 2048;  // users scored per matrix product
  // Sorted cold items (Dataset::cold_items). When given, metrics are also reported for the
  // cold-start setting (the cold items ranked among the cold items only, for the users with a
  // cold test item) and the warm setting (warm among warm), as in the cold-start literature
  // (e.g. DropoutNet, CLCRec): ranked among all items, a cold item competes with items whose
  // interactions the model has seen, which says little about how it orders new items.
  std::vector<std::int32_t> cold_items;
  // The beyond-accuracy metrics (engine/eval/beyond_accuracy.h); off: recall, ndcg and
  // precision only.
  bool beyond_accuracy = true;
  // Training interactions per item, for the tail and novelty: the global counts on ranks.
  // Empty: counted from `train_items`.
  std::vector<std::int64_t> item_train_counts;
  // LM features of the items, row-major num_items x item_feature_dim, for intra-list
  // diversity; empty: no diversity (the dataset has no /features/lm).
  std::vector<float> item_features;
  std::int64_t item_feature_dim = 0;
};

struct RankingEvalResult {
  std::vector<std::int64_t> ks;
  std::vector<MetricSums> sums;  // one per k
  std::vector<MetricSums> cold_sums, warm_sums;  // one per k, when cold items are given
  // With beyond_accuracy, one per k: recall over each user's tail test items (for the users
  // with one), and the lists' coverage, exposure, tail share, novelty and diversity.
  std::vector<MetricSums> tail_sums;
  std::vector<ListMetricSums> lists;
  bool has_diversity = false;  // the items had LM features
  double seconds = 0.0;
};

class RankingEvaluator {
 public:
  // `train_items` / `test_items`: each user's sorted training / test items (userItemCsr).
  RankingEvaluator(const Csr& train_items, const Csr& test_items, std::int64_t num_items,
                   RankingEvalOptions options = {});

  // Evaluates the given users (default: every user with a test item); returns sums so
  // that results over disjoint user sets can be added.
  RankingEvalResult evaluate(const UserScorer& scorer) const;
  RankingEvalResult evaluate(const UserScorer& scorer, const std::vector<std::int32_t>& users) const;

  const std::vector<std::int32_t>& testUsers() const { return test_users_; }
  // With beyond_accuracy: the items' training counts, tail and features; null otherwise.
  const ItemCatalogue* catalogue() const { return catalogue_.get(); }

 private:
  const Csr& train_items_;
  const Csr& test_items_;
  std::int64_t num_items_;
  RankingEvalOptions options_;
  std::vector<std::int32_t> test_users_;
  std::unique_ptr<const ItemCatalogue> catalogue_;
};

// {"recall@20": ..., "ndcg@20": ..., "precision@20": ..., "eval_users": ..., "eval_seconds": ...},
// plus the same with "_cold" / "_warm" suffixes when cold items were given, and with
// beyond_accuracy "coverage@20", "gini@20", "tail_share@20", "tail_recall@20", "novelty@20",
// "diversity@20" (only when the items had LM features) and "eval_users_tail".
nlohmann::json toJson(const RankingEvalResult& result);

// Scores every item by its number of training interactions, for every user.
UserScorer popularityScorer(const std::vector<Interaction>& train, std::int64_t num_items);

// Scores by the inner product of user and item embeddings ([num_users, d] and [num_items, d]).
UserScorer innerProductScorer(torch::Tensor user_embeddings, torch::Tensor item_embeddings);

}  // namespace kgrec
