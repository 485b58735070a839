#pragma once
// The K best items for each query (a user, or an item for item-to-item similarity) from any
// scorer (engine/eval/ranking_evaluator.h's UserScorer: query indices -> [batch, num_items]
// scores). The scorer is the one interface between a model and recommendation: an embedding
// model scores u . V^T (innerProductScorer), a model without embeddings (a graph filter)
// returns its scores for the batch the same way. Queries are scored a block at a time (one
// matrix product for embeddings) and each row's top K is picked on LibTorch's threads by one
// pass with a K-entry heap, skipping excluded and non-candidate items.

#include <cstdint>
#include <vector>

#include "engine/eval/ranking_evaluator.h"
#include "engine/graph/dataset.h"

namespace kgrec {

struct TopKOptions {
  std::int64_t k = 20;
  // Queries per scorer call: the [batch, num_items] score block is batch * num_items floats.
  std::int64_t batch = 512;
  // Items never recommended to query q: row q of this CSR (sorted item indices), e.g. the
  // user's training items. nullptr: none excluded.
  const Csr* excluded = nullptr;
  // Items that may be recommended, sorted and unique; empty: every item.
  std::vector<std::int32_t> candidates;
};

// Row r holds the top items of queries[r], best first: entries [r * k, r * k + counts[r]).
// counts[r] < k when fewer items were eligible; the rest of the row is item -1, score NaN.
struct TopKLists {
  std::int64_t k = 0;
  std::vector<std::int32_t> items;
  std::vector<float> scores;
  std::vector<std::int32_t> counts;
};

// The k highest-scoring eligible items of each query, best first; equal scores go to the
// lower item index and NaN scores are never picked, so the result is a function of the scores
// alone (the same for any batch size or thread count). Error when the scorer returns a
// tensor of the wrong shape, or for k < 1 or a candidate outside [0, num_items).
TopKLists topKItems(const UserScorer& scorer, const std::vector<std::int32_t>& queries,
                    std::int64_t num_items, const TopKOptions& options);

}  // namespace kgrec
