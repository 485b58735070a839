#include <gtest/gtest.h>

#include <cmath>

#include "engine/eval/metrics.h"
#include "engine/eval/ranking_evaluator.h"

namespace kgrec {
namespace {

// Hand-computed, following the LightGCN reference code's formulas.
TEST(Metrics, RecallPrecisionNdcgByHand) {
  // Ranked [5, 1, 7, 3], relevant {1, 3, 9}, k = 4: hits at positions 1 and 3 (0-based).
  const std::int64_t ranked[] = {5, 1, 7, 3};
  MetricSums s;
  addUserMetrics(ranked, 4, {1, 3, 9}, 4, &s);
  EXPECT_DOUBLE_EQ(s.recall, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.precision, 2.0 / 4.0);
  const double dcg = 1.0 / std::log2(3.0) + 1.0 / std::log2(5.0);
  const double idcg = 1.0 + 1.0 / std::log2(3.0) + 1.0 / std::log2(4.0);  // min(k, 3) = 3 ideal hits
  EXPECT_NEAR(s.ndcg, dcg / idcg, 1e-12);
  EXPECT_EQ(s.users, 1);
}

TEST(Metrics, IdealDcgCappedByK) {
  // 5 relevant items, k = 2, both top-2 hit: ndcg = 1, recall = 2/5.
  const std::int64_t ranked[] = {2, 4};
  MetricSums s;
  addUserMetrics(ranked, 2, {0, 1, 2, 3, 4}, 2, &s);
  EXPECT_DOUBLE_EQ(s.ndcg, 1.0);
  EXPECT_DOUBLE_EQ(s.recall, 0.4);
}

TEST(Metrics, NoHitAndAveraging) {
  const std::int64_t miss[] = {7, 8};
  const std::int64_t hit[] = {1, 8};
  MetricSums s;
  addUserMetrics(miss, 2, {1}, 2, &s);
  addUserMetrics(hit, 2, {1}, 2, &s);
  EXPECT_DOUBLE_EQ(s.meanRecall(), 0.5);
  EXPECT_DOUBLE_EQ(s.meanNdcg(), 0.5);
  EXPECT_DOUBLE_EQ(s.meanPrecision(), 0.25);
}

TEST(Metrics, EmptyRelevantIsAnError) {
  const std::int64_t ranked[] = {0};
  MetricSums s;
  EXPECT_ANY_THROW(addUserMetrics(ranked, 1, {}, 1, &s));
}

// 2 users, 4 items. User 0 trained on item 0 and tests on item 3; user 1 has no test item.
// Scores prefer item 0 > 1 > 2 > 3 for everyone: with item 0 masked, user 0's top-2 is
// [1, 2] (miss) and top-3 [1, 2, 3] (hit at rank 3).
TEST(RankingEvaluator, MasksTrainingItemsAndSkipsUsersWithoutTest) {
  Csr train = userItemCsr({{0, 0}, {1, 1}}, 2);
  Csr test = userItemCsr({{0, 3}}, 2);
  RankingEvalOptions options;
  options.ks = {2, 3};
  RankingEvaluator evaluator(train, test, 4, options);
  ASSERT_EQ(evaluator.testUsers(), std::vector<std::int32_t>{0});
  UserScorer scorer = [](const torch::Tensor& users) {
    return torch::tensor({4.0f, 3.0f, 2.0f, 1.0f}).repeat({users.size(0), 1});
  };
  RankingEvalResult r = evaluator.evaluate(scorer);
  EXPECT_DOUBLE_EQ(r.sums[0].meanRecall(), 0.0);
  EXPECT_DOUBLE_EQ(r.sums[1].meanRecall(), 1.0);
  EXPECT_NEAR(r.sums[1].meanNdcg(), 1.0 / std::log2(4.0), 1e-12);
  nlohmann::json j = toJson(r);
  EXPECT_EQ(j["eval_users"], 1);
  EXPECT_DOUBLE_EQ(j["recall@3"].get<double>(), 1.0);
}

// One user tested on item 1 (warm) and item 3 (cold), item 0 masked as a training item, items
// 3 and 4 cold. The cold metrics rank the cold items among themselves, the warm metrics the
// warm items among themselves; the plain metrics rank everything.
TEST(RankingEvaluator, RanksColdAmongColdAndWarmAmongWarm) {
  Csr train = userItemCsr({{0, 0}}, 1);
  Csr test = userItemCsr({{0, 1}, {0, 3}}, 1);
  RankingEvalOptions options;
  options.ks = {1};
  options.cold_items = {3, 4};
  RankingEvaluator evaluator(train, test, 5, options);
  auto scoring = [](std::vector<float> scores) -> UserScorer {
    return [scores](const torch::Tensor& users) {
      return torch::tensor(scores).repeat({users.size(0), 1});
    };
  };
  // Cold item 3 first overall: warm item 1 is still first among the warm ones.
  nlohmann::json j = toJson(evaluator.evaluate(scoring({9.0f, 2.0f, 1.0f, 3.0f, 0.5f})));
  EXPECT_DOUBLE_EQ(j["recall@1"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["recall@1_cold"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["recall@1_warm"].get<double>(), 1.0);
  EXPECT_EQ(j["eval_users_cold"], 1);
  EXPECT_EQ(j["eval_users_warm"], 1);
  // Warm items above cold item 3 overall, cold item 4 above it among the cold ones.
  j = toJson(evaluator.evaluate(scoring({9.0f, 5.0f, 4.0f, 1.0f, 2.0f})));
  EXPECT_DOUBLE_EQ(j["recall@1"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["recall@1_cold"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(j["recall@1_warm"].get<double>(), 1.0);
  // The same cold item first among the cold ones although warm items outrank it overall.
  j = toJson(evaluator.evaluate(scoring({9.0f, 1.5f, 4.0f, 3.0f, 2.0f})));
  EXPECT_DOUBLE_EQ(j["recall@1"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(j["recall@1_cold"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["recall@1_warm"].get<double>(), 0.0);
}

TEST(RankingEvaluator, PopularityScorerRanksByTrainingDegree) {
  // Item 2 is the most popular (3 users), then item 1 (2 users); user 3 is tested on item 2.
  std::vector<Interaction> train = {{0, 1}, {0, 2}, {1, 1}, {1, 2}, {2, 2}, {3, 0}};
  Csr train_items = userItemCsr(train, 4);
  Csr test_items = userItemCsr({{3, 2}}, 4);
  RankingEvalOptions options;
  options.ks = {1};
  RankingEvaluator evaluator(train_items, test_items, 3, options);
  RankingEvalResult r = evaluator.evaluate(popularityScorer(train, 3));
  EXPECT_DOUBLE_EQ(r.sums[0].meanRecall(), 1.0);
}

}  // namespace
}  // namespace kgrec
