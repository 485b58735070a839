#include "engine/eval/ranking_evaluator.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "engine/common/error.h"

namespace kgrec {

RankingEvaluator::RankingEvaluator(const Csr& train_items, const Csr& test_items,
                                   std::int64_t num_items, RankingEvalOptions options)
    : train_items_(train_items), test_items_(test_items), num_items_(num_items),
      options_(std::move(options)) {
  KGREC_CHECK(!options_.ks.empty(), "no cut-off k given");
  for (std::int64_t k : options_.ks) KGREC_CHECK(k > 0, "cut-off k must be positive, got {}", k);
  KGREC_CHECK(train_items.numRows() == test_items.numRows(), "train and test user counts differ");
  for (std::int64_t u = 0; u < test_items.numRows(); ++u) {
    if (test_items.degree(u) > 0) test_users_.push_back(static_cast<std::int32_t>(u));
  }
  if (options_.beyond_accuracy) {
    std::vector<std::int64_t> counts = options_.item_train_counts;
    if (counts.empty()) {
      counts.assign(num_items_, 0);
      for (std::int32_t item : train_items.indices) ++counts[item];
    }
    KGREC_CHECK(static_cast<std::int64_t>(counts.size()) == num_items_,
                "training counts for {} items, not {}", counts.size(), num_items_);
    // The catalogue keeps the features (as unit rows); the options need not.
    catalogue_ = std::make_unique<const ItemCatalogue>(
        std::move(counts), std::move(options_.item_features), options_.item_feature_dim);
  }
}

RankingEvalResult RankingEvaluator::evaluate(const UserScorer& scorer) const {
  return evaluate(scorer, test_users_);
}

RankingEvalResult RankingEvaluator::evaluate(const UserScorer& scorer,
                                             const std::vector<std::int32_t>& users) const {
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  RankingEvalResult result;
  result.ks = options_.ks;
  result.sums.resize(options_.ks.size());
  const bool split_cold = !options_.cold_items.empty();
  if (split_cold) {
    result.cold_sums.resize(options_.ks.size());
    result.warm_sums.resize(options_.ks.size());
  }
  std::vector<std::int32_t> relevant_cold, relevant_warm, relevant_tail;
  if (catalogue_) {
    result.tail_sums.resize(options_.ks.size());
    result.lists.resize(options_.ks.size());
    result.has_diversity = catalogue_->hasFeatures();
  }
  const std::int64_t max_k =
      std::min(num_items_, *std::max_element(options_.ks.begin(), options_.ks.end()));
  std::vector<std::int32_t> relevant;
  std::vector<std::int64_t> masked;
  // The cold (warm) metrics rank the cold (warm) candidates only: the rest is masked out.
  torch::Tensor is_cold;
  if (split_cold) {
    is_cold = torch::zeros({num_items_}, torch::kBool);
    for (std::int32_t item : options_.cold_items) is_cold[item] = true;
  }
  auto topItems = [&](const torch::Tensor& scores) {
    return std::get<1>(scores.topk(max_k, 1, /*largest=*/true, /*sorted=*/true))
        .to(torch::kCPU, torch::kInt64)
        .contiguous();
  };
  for (std::size_t first = 0; first < users.size(); first += options_.batch_users) {
    const std::size_t count = std::min<std::size_t>(options_.batch_users, users.size() - first);
    torch::Tensor batch = torch::from_blob(const_cast<std::int32_t*>(users.data() + first),
                                           {static_cast<std::int64_t>(count)}, torch::kInt32)
                              .to(torch::kInt64);
    torch::Tensor scores = scorer(batch).contiguous();
    KGREC_CHECK(scores.dim() == 2 && scores.size(0) == static_cast<std::int64_t>(count) &&
                    scores.size(1) == num_items_,
                "scorer returned {} for {} users and {} items", c10::str(scores.sizes()), count,
                num_items_);
    // Mask training items: flat positions row * num_items + item.
    masked.clear();
    for (std::size_t b = 0; b < count; ++b) {
      const std::int32_t u = users[first + b];
      for (std::int64_t e = train_items_.indptr[u]; e < train_items_.indptr[u + 1]; ++e) {
        masked.push_back(static_cast<std::int64_t>(b) * num_items_ + train_items_.indices[e]);
      }
    }
    if (!masked.empty()) {
      torch::Tensor index = torch::from_blob(masked.data(), {static_cast<std::int64_t>(masked.size())},
                                             torch::kInt64).to(scores.device());
      scores.view({-1}).index_fill_(0, index, -std::numeric_limits<float>::infinity());
    }
    const torch::Tensor top = topItems(scores);
    torch::Tensor top_cold, top_warm;
    if (split_cold) {
      constexpr float kExcluded = -std::numeric_limits<float>::infinity();
      const torch::Tensor cold = is_cold.to(scores.device()).unsqueeze(0);
      top_cold = topItems(scores.masked_fill(cold.logical_not(), kExcluded));
      top_warm = topItems(scores.masked_fill(cold, kExcluded));
    }
    for (std::size_t b = 0; b < count; ++b) {
      const std::int32_t u = users[first + b];
      relevant.assign(test_items_.indices.begin() + test_items_.indptr[u],
                      test_items_.indices.begin() + test_items_.indptr[u + 1]);
      if (relevant.empty()) continue;
      auto addAll = [&](const torch::Tensor& ranking, const std::vector<std::int32_t>& items,
                        std::vector<MetricSums>* sums) {
        if (items.empty()) return;
        const std::int64_t* ranked = ranking.data_ptr<std::int64_t>() + b * max_k;
        for (std::size_t j = 0; j < options_.ks.size(); ++j) {
          addUserMetrics(ranked, max_k, items, options_.ks[j], &(*sums)[j]);
        }
      };
      addAll(top, relevant, &result.sums);
      if (catalogue_) {
        const std::int64_t* ranked = top.data_ptr<std::int64_t>() + b * max_k;
        for (std::size_t j = 0; j < options_.ks.size(); ++j) {
          addListMetrics(ranked, max_k, options_.ks[j], *catalogue_, &result.lists[j]);
        }
        tailItems(relevant, *catalogue_, &relevant_tail);
        addAll(top, relevant_tail, &result.tail_sums);
      }
      if (split_cold) {
        relevant_cold.clear();
        relevant_warm.clear();
        for (std::int32_t item : relevant) {
          (std::binary_search(options_.cold_items.begin(), options_.cold_items.end(), item)
               ? relevant_cold : relevant_warm).push_back(item);
        }
        addAll(top_cold, relevant_cold, &result.cold_sums);
        addAll(top_warm, relevant_warm, &result.warm_sums);
      }
    }
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

nlohmann::json toJson(const RankingEvalResult& result) {
  nlohmann::json json;
  auto put = [&](const std::vector<MetricSums>& sums, const std::string& suffix) {
    for (std::size_t j = 0; j < result.ks.size(); ++j) {
      const std::string at = "@" + std::to_string(result.ks[j]) + suffix;
      json["recall" + at] = sums[j].meanRecall();
      json["ndcg" + at] = sums[j].meanNdcg();
      json["precision" + at] = sums[j].meanPrecision();
    }
    json["eval_users" + suffix] = sums.empty() ? 0 : sums.front().users;
  };
  put(result.sums, "");
  for (std::size_t j = 0; j < result.lists.size(); ++j) {
    const std::string at = "@" + std::to_string(result.ks[j]);
    const ListMetricSums& lists = result.lists[j];
    json["coverage" + at] = lists.coverage();
    json["gini" + at] = lists.gini();
    json["tail_share" + at] = lists.meanTailShare();
    json["tail_recall" + at] = result.tail_sums[j].meanRecall();
    json["novelty" + at] = lists.meanNovelty();
    if (result.has_diversity) json["diversity" + at] = lists.meanDiversity();
  }
  if (!result.tail_sums.empty()) json["eval_users_tail"] = result.tail_sums.front().users;
  if (!result.cold_sums.empty()) {
    put(result.cold_sums, "_cold");
    put(result.warm_sums, "_warm");
  }
  json["eval_seconds"] = result.seconds;
  return json;
}

UserScorer popularityScorer(const std::vector<Interaction>& train, std::int64_t num_items) {
  std::vector<std::int64_t> degree = itemDegrees(train, num_items);
  torch::Tensor popularity =
      torch::from_blob(degree.data(), {num_items}, torch::kInt64).to(torch::kFloat32);
  return [popularity](const torch::Tensor& users) {
    return popularity.unsqueeze(0).expand({users.size(0), popularity.size(0)}).clone();
  };
}

UserScorer innerProductScorer(torch::Tensor user_embeddings, torch::Tensor item_embeddings) {
  torch::Tensor items_t = item_embeddings.t().contiguous();
  return [users_e = std::move(user_embeddings), items_t](const torch::Tensor& users) {
    return torch::mm(users_e.index_select(0, users.to(users_e.device())), items_t);
  };
}

}  // namespace kgrec
