#include "engine/graph/synthetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "engine/common/error.h"
#include "tests/graph/dataset_testing.h"

namespace kgrec {
namespace {

// Degrees of each user (or item) over all splits.
std::vector<std::int64_t> allDegrees(const Dataset& d, bool users) {
  std::vector<std::int64_t> degree(users ? d.nodes.num_users : d.nodes.num_items, 0);
  for (const auto* split : {&d.train, &d.valid, &d.test}) {
    for (const Interaction& x : *split) ++degree[users ? x.user : x.item];
  }
  return degree;
}

double mean(const std::vector<std::int64_t>& v) {
  return static_cast<double>(std::accumulate(v.begin(), v.end(), std::int64_t{0})) /
         static_cast<double>(v.size());
}

TEST(Synthetic, SameSeedSameDatasetOtherSeedOtherDataset) {
  SyntheticOptions options;
  const Dataset a = generateSynthetic(options);
  expectSameDataset(a, generateSynthetic(options));
  options.seed = 2;
  const Dataset c = generateSynthetic(options);
  EXPECT_NE(a.train, c.train);
  EXPECT_NE(a.item_texts, c.item_texts);
}

TEST(Synthetic, DefaultDatasetIsValidAndComplete) {
  const SyntheticOptions options;
  const Dataset d = generateSynthetic(options);
  validateDataset(d);
  EXPECT_EQ(d.nodes.num_users, options.users);
  EXPECT_EQ(d.nodes.num_items, options.items);
  EXPECT_EQ(d.nodes.num_entities, options.entities);
  EXPECT_EQ(d.numKgRelations(), options.kg_relations);
  EXPECT_EQ(d.relation_names[2], "genre");
  EXPECT_EQ(d.metadata.at("generator"), "kgrec synthetic");
  EXPECT_EQ(d.metadata.at("seed"), "1");
  EXPECT_EQ(d.metadata.at("synthetic.community_affinity"), "0.85");
  // Every user has at least one training item.
  const std::vector<std::int64_t> train_degree = [&] {
    std::vector<std::int64_t> deg(d.nodes.num_users, 0);
    for (const Interaction& x : d.train) ++deg[x.user];
    return deg;
  }();
  EXPECT_EQ(std::count(train_degree.begin(), train_degree.end(), 0), 0);
  // The mean number of interactions is about the one asked for (less what heavy users could
  // not find in their community).
  const double mean_degree = mean(allDegrees(d, true));
  EXPECT_GT(mean_degree, 0.7 * options.interactions_per_user);
  EXPECT_LE(mean_degree, options.interactions_per_user);
  // Texts: every item has one, and so does every entity.
  for (const std::string& t : d.item_texts) EXPECT_FALSE(t.empty());
  for (const std::string& t : d.entity_texts) EXPECT_FALSE(t.empty());
  EXPECT_EQ(d.item_texts[17].rfind("item 17: ", 0), 0u) << d.item_texts[17];
  // The KG: items -> entities, plus some entity -> entity triples.
  EXPECT_GT(d.triples.size(), static_cast<std::size_t>(options.items));
  const std::int64_t entity0 = d.nodes.begin(NodeType::kEntity);
  EXPECT_TRUE(std::any_of(d.triples.begin(), d.triples.end(),
                          [&](const Triple& t) { return t.head >= entity0; }));
  EXPECT_TRUE(d.valid.empty());
}

TEST(Synthetic, DegreesAreHeavyTailed) {
  const Dataset d = generateSynthetic(SyntheticOptions{});
  for (bool users : {true, false}) {
    std::vector<std::int64_t> degree = allDegrees(d, users);
    const double avg = mean(degree);
    std::sort(degree.begin(), degree.end());
    const auto median = static_cast<double>(degree[degree.size() / 2]);
    EXPECT_GT(static_cast<double>(degree.back()), 5.0 * avg) << (users ? "users" : "items");
    EXPECT_LT(median, avg) << (users ? "users" : "items");
  }
}

TEST(Synthetic, CommunityStructureFollowsAffinity) {
  for (double affinity : {0.85, 0.5}) {
    SyntheticOptions options;
    options.community_affinity = affinity;
    std::vector<std::int32_t> community;
    const Dataset d = generateSynthetic(options, &community);
    ASSERT_EQ(static_cast<std::int64_t>(community.size()), d.nodes.numNodes());
    const std::int64_t item0 = d.nodes.begin(NodeType::kItem);
    std::int64_t inside = 0;
    for (const Interaction& x : d.train) inside += community[x.user] == community[item0 + x.item];
    const double fraction = static_cast<double>(inside) / static_cast<double>(d.train.size());
    // Deduplication removes repeated popular in-community items, so slightly below affinity.
    EXPECT_NEAR(fraction, affinity, 0.06) << affinity;
    std::int64_t kg_inside = 0;
    for (const Triple& t : d.triples) kg_inside += community[t.head] == community[t.tail];
    EXPECT_GT(static_cast<double>(kg_inside) / static_cast<double>(d.triples.size()),
              affinity - 0.1);
  }
}

TEST(Synthetic, TextsCarryCommunityWords) {
  std::vector<std::int32_t> community;
  const Dataset d = generateSynthetic(SyntheticOptions{}, &community);
  const std::int64_t item0 = d.nodes.begin(NodeType::kItem);
  // A word's community is the one it appears in most; most words of a text should match the
  // item's community.
  std::map<std::string, std::vector<std::int64_t>> counts;
  auto words = [](const std::string& text) {
    std::istringstream in(text.substr(text.find(':') + 1));
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
  };
  const std::int32_t communities = SyntheticOptions{}.communities;
  for (std::int64_t i = 0; i < d.nodes.num_items; ++i) {
    for (const std::string& w : words(d.item_texts[i])) {
      auto& c = counts[w];
      c.resize(communities, 0);
      ++c[community[item0 + i]];
    }
  }
  std::int64_t matching = 0, total = 0;
  for (std::int64_t i = 0; i < d.nodes.num_items; ++i) {
    for (const std::string& w : words(d.item_texts[i])) {
      const auto& c = counts[w];
      const auto best = std::max_element(c.begin(), c.end()) - c.begin();
      const bool characteristic = c[best] > 0.9 * std::accumulate(c.begin(), c.end(), 0.0);
      matching += characteristic && best == community[item0 + i];
      ++total;
    }
  }
  EXPECT_NEAR(static_cast<double>(matching) / static_cast<double>(total), 0.7, 0.05);
}

TEST(Synthetic, SplitFractions) {
  SyntheticOptions options;
  options.valid_fraction = 0.1;
  const Dataset d = generateSynthetic(options);
  validateDataset(d);
  const double total = static_cast<double>(d.train.size() + d.valid.size() + d.test.size());
  EXPECT_NEAR(static_cast<double>(d.test.size()) / total, 0.2, 0.03);
  EXPECT_NEAR(static_cast<double>(d.valid.size()) / total, 0.1, 0.03);
  // Splits are disjoint.
  std::set<std::pair<int, int>> seen;
  for (const auto* split : {&d.train, &d.valid, &d.test}) {
    for (const Interaction& x : *split) EXPECT_TRUE(seen.insert({x.user, x.item}).second);
  }
}

TEST(Synthetic, RejectsInvalidOptions) {
  SyntheticOptions options;
  options.test_fraction = 0.7;
  options.valid_fraction = 0.3;
  EXPECT_THROW(generateSynthetic(options), ConfigError);
  options = SyntheticOptions{};
  options.items = 4;
  EXPECT_THROW(generateSynthetic(options), ConfigError);
}

TEST(Synthetic, TinyAndKgFreeOptionsWork) {
  SyntheticOptions options;
  options.users = 3;
  options.items = 2;
  options.entities = 1;
  options.communities = 2;
  options.kg_relations = 3;
  validateDataset(generateSynthetic(options));
  options.kg_relations = 0;
  const Dataset d = generateSynthetic(options);
  validateDataset(d);
  EXPECT_TRUE(d.triples.empty());
  EXPECT_FALSE(d.entity_texts[0].empty());
}

}  // namespace
}  // namespace kgrec
