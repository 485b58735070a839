// The importers on the real datasets under ../shared/datasets (skipped when absent).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "engine/prepare/importers.h"
#include "tests/prepare/test_files.h"

namespace kgrec {
namespace {

TEST(RealData, GowallaLightGcnSplit) {
  const std::string dir = sharedDataset("gowalla");
  if (dir.empty()) GTEST_SKIP() << "shared datasets/gowalla not found";
  ImportOptions o;
  o.train = dir + "/train.txt";
  o.test = dir + "/test.txt";
  const auto start = std::chrono::steady_clock::now();
  BuildReport report;
  const Dataset d = importDataset(o, &report);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("import_seconds", std::to_string(seconds));
  validateDataset(d);
  EXPECT_EQ(d.name, "gowalla");
  EXPECT_EQ(d.nodes.num_users, 29858);
  EXPECT_EQ(d.nodes.num_items, 40981);
  EXPECT_EQ(d.train.size(), 810128u);
  EXPECT_EQ(d.test.size(), 217242u);
  EXPECT_EQ(report.duplicate_interactions, 0);
  EXPECT_EQ(report.eval_pairs_in_train, 0);
  // Ids are kept: the first line is "0 0 1 2 3 5 ..." and the last "29857 11757 ... 1851".
  EXPECT_EQ(d.train.front(), (Interaction{0, 0}));
  EXPECT_TRUE(std::binary_search(d.train.begin(), d.train.end(), Interaction{29857, 11757}));
  EXPECT_TRUE(std::binary_search(d.train.begin(), d.train.end(), Interaction{29857, 1851}));
}

TEST(RealData, LastFmPairsWithKg) {
  const std::string dir = sharedDataset("lastfm-kg");
  if (dir.empty()) GTEST_SKIP() << "shared datasets/lastfm-kg not found";
  ImportOptions o;
  o.format = InputFormat::kPairs;
  o.train = dir + "/train_pos.txt";
  o.test = dir + "/test.txt";
  o.kg = dir + "/kg_final.txt";
  BuildReport report;
  const Dataset d = importDataset(o, &report);
  validateDataset(d);
  EXPECT_EQ(d.nodes.num_users, 1815);
  EXPECT_EQ(d.nodes.num_items, 3846);          // KG entities 0..3845
  EXPECT_EQ(d.nodes.num_entities, 9366 - 3846);  // the other KG ids, up to 9365
  EXPECT_EQ(d.train.size(), 17523u);
  EXPECT_EQ(d.test.size(), 3473u);
  EXPECT_EQ(d.triples.size(), 15518u);
  EXPECT_EQ(report.duplicate_triples, 0);
  EXPECT_EQ(d.numKgRelations(), 60);
  EXPECT_EQ(d.metadata.at("option.kg_items"), "3846");
  // First triple "2086 0 3846": item 2086 -r0-> entity 0, whose original id is 3846.
  EXPECT_EQ(d.entity_ids[0], "3846");
  const auto head = static_cast<std::int32_t>(d.nodes.globalId(NodeType::kItem, 2086));
  const auto tail = static_cast<std::int32_t>(d.nodes.globalId(NodeType::kEntity, 0));
  bool found = false;
  for (const Triple& t : d.triples) {
    found |= t.head == head && t.tail == tail && d.relation_names[2 + 2 * t.relation] == "r0";
  }
  EXPECT_TRUE(found);
}

TEST(RealData, MovieLens100k) {
  const std::string dir = sharedDataset("ml-100k");
  if (dir.empty()) GTEST_SKIP() << "shared datasets/ml-100k not found";
  ImportOptions o;
  o.format = InputFormat::kMovieLens;
  o.movielens_dir = dir;
  BuildReport report;
  const Dataset d = importDataset(o, &report);
  validateDataset(d);
  EXPECT_EQ(d.name, "ml-100k");
  EXPECT_EQ(d.nodes.num_items, 1682);
  // 943 GroupLens users plus user "0": this copy of u.data starts with three extra ratings by
  // a user 0 (a known variant of the file), 100,003 ratings in all.
  EXPECT_EQ(d.nodes.num_users, 944);
  EXPECT_EQ(d.user_ids[0], "0");
  EXPECT_EQ(d.train.size() + d.test.size(), 100003u);
  EXPECT_EQ(report.duplicate_interactions, 0);
  EXPECT_NEAR(static_cast<double>(d.test.size()) / 100003.0, 0.2, 0.01);
  EXPECT_EQ(d.item_ids[0], "1");
  EXPECT_EQ(d.item_texts[0], "Toy Story (1995). Animation, Children's, Comedy");
  EXPECT_EQ(d.numKgRelations(), 3);
  EXPECT_EQ(d.entity_texts[0], "Animation");

  o.min_rating = 4;
  const Dataset liked = importDataset(o);
  EXPECT_EQ(liked.train.size() + liked.test.size(), 55377u);  // ratings 4 and 5
}

TEST(RealData, MovieLens100kTemporalSplitPerUser) {
  const std::string dir = sharedDataset("ml-100k");
  if (dir.empty()) GTEST_SKIP() << "shared datasets/ml-100k not found";
  ImportOptions o;
  o.format = InputFormat::kMovieLens;
  o.movielens_dir = dir;
  o.split = SplitMethod::kTemporalUser;
  o.valid_fraction = 0.1;
  const Dataset d = importDataset(o);
  validateDataset(d);
  ASSERT_TRUE(d.hasTimestamps());
  EXPECT_EQ(d.train.size() + d.valid.size() + d.test.size(), 100003u);
  // No user has a training pair later than one of its validation pairs, nor a validation
  // pair later than one of its test pairs.
  std::vector<std::int64_t> last_train(d.nodes.num_users, INT64_MIN), last_valid = last_train;
  std::vector<std::int64_t> first_valid(d.nodes.num_users, INT64_MAX), first_test = first_valid;
  for (std::size_t k = 0; k < d.train.size(); ++k) {
    last_train[d.train[k].user] = std::max(last_train[d.train[k].user], d.train_times[k]);
  }
  for (std::size_t k = 0; k < d.valid.size(); ++k) {
    first_valid[d.valid[k].user] = std::min(first_valid[d.valid[k].user], d.valid_times[k]);
    last_valid[d.valid[k].user] = std::max(last_valid[d.valid[k].user], d.valid_times[k]);
  }
  for (std::size_t k = 0; k < d.test.size(); ++k) {
    first_test[d.test[k].user] = std::min(first_test[d.test[k].user], d.test_times[k]);
  }
  for (std::int64_t u = 0; u < d.nodes.num_users; ++u) {
    EXPECT_LE(last_train[u], first_valid[u]) << d.user_ids[u];
    EXPECT_LE(std::max(last_train[u], last_valid[u]), first_test[u]) << d.user_ids[u];
  }
  EXPECT_NEAR(static_cast<double>(d.test.size()) / 100003.0, 0.2, 0.01);
  EXPECT_NEAR(static_cast<double>(d.valid.size()) / 100003.0, 0.1, 0.01);
}

}  // namespace
}  // namespace kgrec
