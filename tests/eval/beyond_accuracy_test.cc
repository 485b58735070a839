// The beyond-accuracy metrics (docs/metrics.md) against examples computed by hand.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/eval/beyond_accuracy.h"
#include "engine/eval/exposure_table.h"
#include "engine/eval/ranking_evaluator.h"

namespace kgrec {
namespace {

// 5 items with training counts 5, 0, 3, 1, 1 (10 interactions): the head is ceil(0.2 * 5) = 1
// item, item 0.
ItemCatalogue fiveItems() { return ItemCatalogue({5, 0, 3, 1, 1}); }

TEST(ItemCatalogue, HeadIsTheMostInteractedFifth) {
  const ItemCatalogue c = fiveItems();
  EXPECT_FALSE(c.isTail(0));
  for (int item : {1, 2, 3, 4}) EXPECT_TRUE(c.isTail(item)) << item;
  // 10 items, head of 2: ties at count 4 go to the lower index (items 1 and 2, not 7).
  const ItemCatalogue ties({1, 4, 4, 0, 0, 0, 0, 4, 0, 0});
  EXPECT_FALSE(ties.isTail(1));
  EXPECT_FALSE(ties.isTail(2));
  EXPECT_TRUE(ties.isTail(7));
  EXPECT_TRUE(ties.isTail(0));
  // An item without training interactions is never in the head.
  const ItemCatalogue sparse({0, 0, 0, 0, 0, 0, 0, 0, 0, 3});
  EXPECT_FALSE(sparse.isTail(9));
  EXPECT_TRUE(sparse.isTail(0));
}

TEST(ItemCatalogue, SelfInformationIsAddOneSmoothed) {
  const ItemCatalogue c = fiveItems();
  // p = (count + 1) / (10 + 5).
  EXPECT_NEAR(c.selfInformation(0), -std::log2(6.0 / 15.0), 1e-12);
  EXPECT_NEAR(c.selfInformation(1), std::log2(15.0), 1e-12);
  EXPECT_NEAR(c.selfInformation(2), std::log2(15.0 / 4.0), 1e-12);
}

TEST(ListMetrics, CoverageGiniTailShareNovelty) {
  const ItemCatalogue c = fiveItems();
  ListMetricSums s;
  const std::int64_t first[] = {0, 2, 9};  // k = 2 keeps [0, 2]
  const std::int64_t second[] = {0, 1};
  addListMetrics(first, 3, 2, c, &s);
  addListMetrics(second, 2, 2, c, &s);
  EXPECT_EQ(s.exposure, (std::vector<std::int64_t>{2, 1, 1, 0, 0}));
  EXPECT_EQ(s.users, 2);
  EXPECT_DOUBLE_EQ(s.coverage(), 3.0 / 5.0);
  // Exposure 2, 1, 1, 0, 0 (mean 0.8): sum over ordered pairs of |x_i - x_j| is
  // 2 * (1 + 1 + 2 + 2 + 0 + 1 + 1 + 1 + 1 + 0) = 20, Gini = 20 / (2 * 5^2 * 0.8) = 0.5.
  EXPECT_NEAR(s.gini(), 0.5, 1e-12);
  // Tail items: [0, 2] has 1 of 2, [0, 1] has 1 of 2.
  EXPECT_DOUBLE_EQ(s.meanTailShare(), 0.5);
  const double i0 = -std::log2(6.0 / 15.0), i1 = std::log2(15.0), i2 = std::log2(15.0 / 4.0);
  EXPECT_NEAR(s.meanNovelty(), ((i0 + i2) / 2 + (i0 + i1) / 2) / 2, 1e-12);
  EXPECT_EQ(s.diversity_users, 0) << "no features, no diversity";
}

TEST(ListMetrics, GiniBounds) {
  ListMetricSums even;
  even.exposure = {3, 3, 3, 3};
  EXPECT_DOUBLE_EQ(even.gini(), 0.0);
  ListMetricSums one;
  one.exposure = {0, 0, 0, 8};
  EXPECT_DOUBLE_EQ(one.gini(), 3.0 / 4.0);
  ListMetricSums none;
  none.exposure = {0, 0};
  EXPECT_DOUBLE_EQ(none.gini(), 0.0);
  EXPECT_DOUBLE_EQ(none.coverage(), 0.0);
}

TEST(ListMetrics, IntraListDiversityIsMeanPairwiseCosineDistance) {
  // Item 0 (1, 0); item 1 (0, 2), cosine-equal to (0, 1); item 2 (1, 1); item 3 has no text.
  const ItemCatalogue c({1, 1, 1, 1}, {1, 0, 0, 2, 1, 1, 0, 0}, 2);
  ListMetricSums s;
  const std::int64_t three[] = {0, 1, 2};
  addListMetrics(three, 3, 3, c, &s);
  // Pairs: (0, 1) cos 0, (0, 2) and (1, 2) cos 1/sqrt(2).
  const double expected = ((1 - 0.0) + 2 * (1 - 1 / std::sqrt(2.0))) / 3;
  EXPECT_NEAR(s.meanDiversity(), expected, 1e-6);
  // A zero feature row has cosine 0 with everything: distance 1.
  ListMetricSums zero;
  const std::int64_t with_zero[] = {0, 3};
  addListMetrics(with_zero, 2, 2, c, &zero);
  EXPECT_NEAR(zero.meanDiversity(), 1.0, 1e-6);
  // A list of one item has no pair: not counted.
  ListMetricSums single;
  addListMetrics(three, 3, 1, c, &single);
  EXPECT_EQ(single.diversity_users, 0);
  EXPECT_EQ(single.users, 1);
  // Identical directions: distance 0.
  const ItemCatalogue same({1, 1}, {1, 1, 3, 3}, 2);
  ListMetricSums parallel;
  const std::int64_t both[] = {0, 1};
  addListMetrics(both, 2, 2, same, &parallel);
  EXPECT_NEAR(parallel.meanDiversity(), 0.0, 1e-6);
}

TEST(ListMetrics, SumsAddAcrossUserSets) {
  const ItemCatalogue c({1, 1, 1, 1}, {1, 0, 0, 2, 1, 1, 0, 0}, 2);
  const std::int64_t a[] = {0, 1}, b[] = {2, 3};
  ListMetricSums all, first, second;
  addListMetrics(a, 2, 2, c, &all);
  addListMetrics(b, 2, 2, c, &all);
  addListMetrics(a, 2, 2, c, &first);
  addListMetrics(b, 2, 2, c, &second);
  first.add(second);
  EXPECT_EQ(first.exposure, all.exposure);
  EXPECT_EQ(first.users, all.users);
  EXPECT_DOUBLE_EQ(first.novelty, all.novelty);
  EXPECT_DOUBLE_EQ(first.diversity, all.diversity);
  EXPECT_EQ(first.diversity_users, 2);
}

// Users 0 and 1 each test on a head item (0) and a tail item; everyone ranks items by
// the fixed scores 0 > 1 > 2 > 3 > 4 > 5 > 6 > 7 > 8 > 9. Training counts: 9 interactions of
// item 0 and 8 of item 5, so the head is {0, 5}.
TEST(RankingEvaluator, ReportsBeyondAccuracyPerK) {
  std::vector<Interaction> train;
  for (int u = 2; u < 11; ++u) train.push_back({u, 0});
  for (int u = 2; u < 10; ++u) train.push_back({u, 5});
  const Csr train_items = userItemCsr(train, 11);
  const Csr test_items = userItemCsr({{0, 0}, {0, 1}, {1, 0}, {1, 9}}, 11);
  RankingEvalOptions options;
  options.ks = {2};
  RankingEvaluator evaluator(train_items, test_items, 10, options);
  ASSERT_NE(evaluator.catalogue(), nullptr);
  EXPECT_FALSE(evaluator.catalogue()->isTail(5));
  UserScorer scorer = [](const torch::Tensor& users) {
    return torch::arange(10, 0, -1, torch::kFloat32).repeat({users.size(0), 1});
  };
  const RankingEvalResult r = evaluator.evaluate(scorer);
  const nlohmann::json j = toJson(r);
  // Both lists are [0, 1]: coverage 2/10; exposure 2, 2, 0 x 8 -> Gini 0.8; one tail item in
  // each list; user 0's tail test item 1 is found, user 1's item 9 is not.
  EXPECT_DOUBLE_EQ(j.at("coverage@2").get<double>(), 0.2);
  EXPECT_NEAR(j.at("gini@2").get<double>(), 0.8, 1e-12);
  EXPECT_DOUBLE_EQ(j.at("tail_share@2").get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j.at("tail_recall@2").get<double>(), 0.5);
  EXPECT_EQ(j.at("eval_users_tail"), 2);
  // p(0) = 10 / 27, p(1) = 1 / 27 (17 interactions + 10 items).
  EXPECT_NEAR(j.at("novelty@2").get<double>(), (std::log2(27.0 / 10.0) + std::log2(27.0)) / 2,
              1e-12);
  EXPECT_FALSE(j.contains("diversity@2")) << "no features: diversity is absent, not 0";

  options.item_features.assign(20, 0.0f);
  options.item_features[0] = 1.0f;  // item 0 (1, 0), item 1 (0, 1)
  options.item_features[3] = 1.0f;
  options.item_feature_dim = 2;
  const nlohmann::json with = toJson(RankingEvaluator(train_items, test_items, 10, options)
                                         .evaluate(scorer));
  EXPECT_NEAR(with.at("diversity@2").get<double>(), 1.0, 1e-6);

  options.beyond_accuracy = false;
  const nlohmann::json plain = toJson(RankingEvaluator(train_items, test_items, 10, options)
                                          .evaluate(scorer));
  EXPECT_FALSE(plain.contains("coverage@2"));
  EXPECT_TRUE(plain.contains("recall@2"));
}

TEST(ExposureTable, OneRowPerItemWithModelAndBaselineColumns) {
  const ItemCatalogue c = fiveItems();
  RankingEvalResult model, popularity;
  model.ks = popularity.ks = {2};
  model.lists.resize(1);
  popularity.lists.resize(1);
  const std::int64_t m[] = {3, 4}, p[] = {0, 2};
  addListMetrics(m, 2, 2, c, &model.lists[0]);
  addListMetrics(p, 2, 2, c, &popularity.lists[0]);
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / "kgrec-exposure-table-test.tsv";
  writeExposureTable(path.string(), c, model, popularity);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(path);
  EXPECT_EQ(text.str(),
            "item\ttrain_interactions\ttail\tmodel_exposure@2\tpopularity_exposure@2\n"
            "0\t5\t0\t0\t1\n"
            "1\t0\t1\t0\t0\n"
            "2\t3\t1\t0\t1\n"
            "3\t1\t1\t1\t0\n"
            "4\t1\t1\t1\t0\n");
}

}  // namespace
}  // namespace kgrec
