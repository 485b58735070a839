#pragma once
// Test helper: field-by-field comparison of two datasets, with a readable failure per field.

#include <gtest/gtest.h>

#include <tuple>

#include "engine/graph/dataset.h"

namespace kgrec {

inline void expectSameDataset(const Dataset& a, const Dataset& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.nodes.num_users, b.nodes.num_users);
  EXPECT_EQ(a.nodes.num_items, b.nodes.num_items);
  EXPECT_EQ(a.nodes.num_entities, b.nodes.num_entities);
  EXPECT_EQ(a.relation_names, b.relation_names);
  EXPECT_EQ(a.graph.indptr, b.graph.indptr);
  EXPECT_EQ(a.graph.indices, b.graph.indices);
  EXPECT_EQ(a.graph.relations, b.graph.relations);
  auto key = [](const Triple& t) { return std::make_tuple(t.head, t.relation, t.tail); };
  ASSERT_EQ(a.triples.size(), b.triples.size());
  for (std::size_t t = 0; t < a.triples.size(); ++t)
    EXPECT_EQ(key(a.triples[t]), key(b.triples[t])) << t;
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.valid, b.valid);
  EXPECT_EQ(a.test, b.test);
  EXPECT_EQ(a.train_times, b.train_times);
  EXPECT_EQ(a.valid_times, b.valid_times);
  EXPECT_EQ(a.test_times, b.test_times);
  EXPECT_EQ(a.cold_items, b.cold_items);
  EXPECT_EQ(a.user_ids, b.user_ids);
  EXPECT_EQ(a.item_ids, b.item_ids);
  EXPECT_EQ(a.entity_ids, b.entity_ids);
  EXPECT_EQ(a.item_texts, b.item_texts);
  EXPECT_EQ(a.entity_texts, b.entity_texts);
  EXPECT_EQ(a.metadata, b.metadata);
}

}  // namespace kgrec
