#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "engine/common/error.h"
#include "engine/graph/cold_items.h"
#include "engine/graph/synthetic.h"
#include "tests/graph/dataset_testing.h"

namespace kgrec {
namespace {

SyntheticOptions smallGraph() {
  SyntheticOptions o;
  o.users = 300;
  o.items = 200;
  o.entities = 50;
  o.seed = 4;
  return o;
}

TEST(ColdItems, MovesEveryInteractionOfTheHeldOutItemsToTest) {
  const Dataset d = generateSynthetic(smallGraph());
  const Dataset cold = holdOutColdItems(d, 0.2, 9);
  validateDataset(cold);
  std::int64_t trained_items = 0;
  for (std::int64_t degree : itemDegrees(d.train, d.nodes.num_items)) trained_items += degree > 0;
  EXPECT_EQ(static_cast<std::int64_t>(cold.cold_items.size()), std::llround(0.2 * trained_items));
  const std::set<std::int32_t> cold_set(cold.cold_items.begin(), cold.cold_items.end());
  for (const Interaction& x : cold.train) EXPECT_FALSE(cold_set.count(x.item));
  // Every original pair is still somewhere: in train if warm, in test if cold.
  std::set<std::pair<int, int>> test_pairs;
  for (const Interaction& x : cold.test) test_pairs.insert({x.user, x.item});
  for (const Interaction& x : d.train) {
    if (cold_set.count(x.item)) {
      EXPECT_TRUE(test_pairs.count({x.user, x.item}));
    }
  }
  for (const Interaction& x : d.test) EXPECT_TRUE(test_pairs.count({x.user, x.item}));
  EXPECT_EQ(cold.train.size() + cold.test.size(), d.train.size() + d.test.size());
  // Cold items keep their KG edges and texts but no interaction edge.
  for (std::int32_t item : cold.cold_items) {
    const std::int64_t v = cold.nodes.globalId(NodeType::kItem, item);
    for (std::int64_t e = cold.graph.indptr[v]; e < cold.graph.indptr[v + 1]; ++e) {
      EXPECT_NE(cold.graph.relations[e], kRelInteract);
    }
    EXPECT_EQ(cold.item_texts[item], d.item_texts[item]);
  }
  EXPECT_EQ(cold.triples.size(), d.triples.size());
  EXPECT_EQ(cold.item_ids, d.item_ids);
}

TEST(ColdItems, SameSeedSameSplitAndBadFractionRefused) {
  const Dataset d = generateSynthetic(smallGraph());
  expectSameDataset(holdOutColdItems(d, 0.1, 3), holdOutColdItems(d, 0.1, 3));
  EXPECT_NE(holdOutColdItems(d, 0.1, 3).cold_items, holdOutColdItems(d, 0.1, 4).cold_items);
  EXPECT_THROW(holdOutColdItems(d, 0.0, 1), ConfigError);
  EXPECT_THROW(holdOutColdItems(d, 1.0, 1), ConfigError);
}

TEST(ColdItems, ValidateRejectsTrainedColdItem) {
  Dataset d = holdOutColdItems(generateSynthetic(smallGraph()), 0.1, 3);
  d.cold_items.push_back(d.train.front().item);
  std::sort(d.cold_items.begin(), d.cold_items.end());
  d.cold_items.erase(std::unique(d.cold_items.begin(), d.cold_items.end()), d.cold_items.end());
  EXPECT_THROW(validateDataset(d), FormatError);
}

TEST(ColdItems, TimestampsMoveWithTheirPairs) {
  Dataset d = generateSynthetic(smallGraph());
  // A time per pair that encodes the pair, so that each can be checked after the move.
  auto timeOf = [](const Interaction& x) { return std::int64_t{x.user} * 1000 + x.item; };
  for (const auto& [split, times] : {std::pair{&d.train, &d.train_times},
                                     std::pair{&d.valid, &d.valid_times},
                                     std::pair{&d.test, &d.test_times}}) {
    for (const Interaction& x : *split) times->push_back(timeOf(x));
  }
  const Dataset cold = holdOutColdItems(d, 0.2, 9);
  validateDataset(cold);
  ASSERT_TRUE(cold.hasTimestamps());
  for (std::size_t k = 0; k < cold.train.size(); ++k) EXPECT_EQ(cold.train_times[k], timeOf(cold.train[k]));
  for (std::size_t k = 0; k < cold.test.size(); ++k) EXPECT_EQ(cold.test_times[k], timeOf(cold.test[k]));
}

}  // namespace
}  // namespace kgrec
