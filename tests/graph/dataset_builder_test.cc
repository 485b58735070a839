#include <gtest/gtest.h>

#include "engine/common/error.h"
#include "engine/graph/dataset_builder.h"

namespace kgrec {
namespace {

// 2 users, 3 items, 1 entity.
//   train: u0-i0, u0-i1, u1-i1 (+ a duplicate u0-i0);  test: u1-i2
//   KG: i0 -genre-> e0, i1 -genre-> e0
Dataset tinyDataset(BuildReport* report) {
  DatasetBuilder b("tiny");
  b.addInteraction(Split::kTrain, 0, 0);
  b.addInteraction(Split::kTrain, 0, 1);
  b.addInteraction(Split::kTrain, 1, 1);
  b.addInteraction(Split::kTrain, 0, 0);
  b.addInteraction(Split::kTest, 1, 2);
  const std::int32_t genre = b.relation("genre");
  b.addTriple({NodeType::kItem, 0}, genre, {NodeType::kEntity, 0});
  b.addTriple({NodeType::kItem, 1}, genre, {NodeType::kEntity, 0});
  b.setText(NodeType::kItem, 2, "third item");
  return b.build(report);
}

TEST(DatasetBuilder, BuildsTypedNodeSpaceAndSymmetricCsr) {
  BuildReport report;
  Dataset d = tinyDataset(&report);
  validateDataset(d);
  EXPECT_EQ(d.nodes.num_users, 2);
  EXPECT_EQ(d.nodes.num_items, 3);
  EXPECT_EQ(d.nodes.num_entities, 1);
  EXPECT_EQ(report.duplicate_interactions, 1);
  EXPECT_EQ(d.train.size(), 3u);
  EXPECT_EQ(report.items_without_train, 1);  // i2 only in test
  // Global ids: u0=0 u1=1 i0=2 i1=3 i2=4 e0=5. Row of i1 (3): u0, u1 (interacts), e0 (genre_reverse).
  ASSERT_EQ(d.graph.degree(3), 3);
  const std::int64_t at = d.graph.indptr[3];
  EXPECT_EQ(d.graph.indices[at], 0);
  EXPECT_EQ(d.graph.relations[at], kRelInteract);
  EXPECT_EQ(d.graph.indices[at + 1], 1);
  EXPECT_EQ(d.graph.indices[at + 2], 5);
  EXPECT_EQ(d.graph.relations[at + 2], kgReverseRelation(0));
  // Row of e0 (5): i0, i1 by "genre".
  ASSERT_EQ(d.graph.degree(5), 2);
  EXPECT_EQ(d.graph.relations[d.graph.indptr[5]], kgForwardRelation(0));
  // The test pair never enters the graph.
  EXPECT_EQ(d.graph.degree(4), 0);
  EXPECT_EQ(d.relation_names.size(), 4u);
  EXPECT_EQ(d.relation_names[3], "genre_reverse");
  EXPECT_EQ(d.item_texts[2], "third item");
  EXPECT_EQ(d.item_ids[1], "1");
}

TEST(DatasetBuilder, InternKeepsOriginalIds) {
  DatasetBuilder b("named");
  const auto alice = b.intern(NodeType::kUser, "alice");
  const auto book = b.intern(NodeType::kItem, "book");
  EXPECT_EQ(b.intern(NodeType::kUser, "alice"), alice);
  b.addInteraction(Split::kTrain, alice, book);
  Dataset d = b.build();
  EXPECT_EQ(d.user_ids, std::vector<std::string>{"alice"});
  EXPECT_EQ(d.item_ids, std::vector<std::string>{"book"});
}

TEST(Dataset, ValidateRejectsMissingReverseEdge) {
  Dataset d = tinyDataset(nullptr);
  d.graph.relations[d.graph.indptr[3]] = kgForwardRelation(0);
  EXPECT_THROW(validateDataset(d), FormatError);
}

TEST(Dataset, UserItemCsrSortsItems) {
  Csr csr = userItemCsr({{1, 5}, {0, 3}, {1, 2}}, 3);
  EXPECT_EQ(csr.indptr, (std::vector<std::int64_t>{0, 1, 3, 3}));
  EXPECT_EQ(csr.indices, (std::vector<std::int32_t>{3, 2, 5}));
}

TEST(DatasetBuilder, TimesFollowTheirPairsAndARepeatKeepsTheEarliest) {
  DatasetBuilder b("timed");
  b.addInteraction(Split::kTrain, 1, 0, 30);
  b.addInteraction(Split::kTrain, 0, 2, 20);
  b.addInteraction(Split::kTrain, 1, 0, 10);  // repeat of (1, 0), earlier
  b.addInteraction(Split::kTrain, 1, 0, 40);
  b.addInteraction(Split::kTest, 0, 1, 50);
  BuildReport report;
  const Dataset d = b.build(&report);
  validateDataset(d);
  EXPECT_EQ(report.duplicate_interactions, 2);
  EXPECT_EQ(d.train, (std::vector<Interaction>{{0, 2}, {1, 0}}));
  EXPECT_EQ(d.train_times, (std::vector<std::int64_t>{20, 10}));
  EXPECT_EQ(d.test_times, std::vector<std::int64_t>{50});
  EXPECT_TRUE(d.valid_times.empty());
  EXPECT_TRUE(d.hasTimestamps());
  EXPECT_FALSE(tinyDataset(nullptr).hasTimestamps());
}

TEST(DatasetBuilder, SomeInteractionsWithoutATimeIsABug) {
  DatasetBuilder b("mixed");
  b.addInteraction(Split::kTrain, 0, 0, 1);
  b.addInteraction(Split::kTest, 0, 1);
  EXPECT_THROW(b.build(), Error);
}

}  // namespace
}  // namespace kgrec
