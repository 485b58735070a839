#include "engine/recommend/top_k_items.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/common/error.h"

namespace kgrec {
namespace {

struct Scored {
  float score;
  std::int32_t item;
};

// The order of a ranking: higher score first, then lower item index.
bool ranksBefore(const Scored& a, const Scored& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

// Items scanned per step of the all-items scan: once the heap is full, a step none of whose
// scores beats the threshold (almost every step after the first few) is skipped by one
// vectorised comparison, so the scan runs at memory speed.
constexpr std::int64_t kStep = 32;

// One query's top k among `columns` (ascending item indices; nullptr: 0 .. num_columns - 1)
// minus `excluded` [excluded_begin, excluded_end) (ascending), into `heap` (best first).
void topOfRow(const float* row, const std::int32_t* columns, std::int64_t num_columns,
              const std::int32_t* excluded, const std::int32_t* excluded_end, std::int64_t k,
              std::vector<Scored>* heap) {
  heap->clear();
  // While the heap is full its front is the worst kept entry; items come in ascending order,
  // so a later item must score strictly more than it to enter.
  float threshold = -std::numeric_limits<float>::infinity();
  auto offer = [&](std::int32_t item) {
    while (excluded != excluded_end && *excluded < item) ++excluded;
    if (excluded != excluded_end && *excluded == item) return;
    const float score = row[item];
    if (static_cast<std::int64_t>(heap->size()) < k) {
      if (std::isnan(score)) return;
      heap->push_back({score, item});
      std::push_heap(heap->begin(), heap->end(), ranksBefore);
      if (static_cast<std::int64_t>(heap->size()) == k) threshold = heap->front().score;
    } else if (score > threshold) {
      std::pop_heap(heap->begin(), heap->end(), ranksBefore);
      heap->back() = {score, item};
      std::push_heap(heap->begin(), heap->end(), ranksBefore);
      threshold = heap->front().score;
    }
  };
  if (columns != nullptr) {
    for (std::int64_t c = 0; c < num_columns; ++c) offer(columns[c]);
  } else {
    for (std::int64_t first = 0; first < num_columns; first += kStep) {
      const std::int64_t last = std::min(first + kStep, num_columns);
      if (static_cast<std::int64_t>(heap->size()) == k) {
        int beats = 0;  // an integer reduction, so that it vectorises without -ffast-math
        for (std::int64_t c = first; c < last; ++c) beats |= row[c] > threshold;
        if (!beats) continue;
      }
      for (std::int64_t c = first; c < last; ++c) offer(static_cast<std::int32_t>(c));
    }
  }
  std::sort_heap(heap->begin(), heap->end(), ranksBefore);
}

}  // namespace

TopKLists topKItems(const UserScorer& scorer, const std::vector<std::int32_t>& queries,
                    std::int64_t num_items, const TopKOptions& options) {
  KGREC_CHECK(options.k >= 1, "the number of items per query (k) must be at least 1, got {}",
              options.k);
  KGREC_CHECK(options.batch >= 1, "the query batch must be at least 1, got {}", options.batch);
  for (std::int32_t item : options.candidates) {
    KGREC_CHECK(item >= 0 && item < num_items, "candidate item {} outside [0, {})", item, num_items);
  }
  if (options.excluded != nullptr) {
    for (std::int32_t query : queries) {
      KGREC_CHECK(query >= 0 && query < options.excluded->numRows(),
                  "query {} has no row of excluded items ({} rows)", query,
                  options.excluded->numRows());
    }
  }
  const std::int64_t k = options.k;
  const auto num_queries = static_cast<std::int64_t>(queries.size());
  TopKLists out;
  out.k = k;
  out.items.assign(num_queries * k, -1);
  out.scores.assign(num_queries * k, std::numeric_limits<float>::quiet_NaN());
  out.counts.assign(num_queries, 0);
  const std::int32_t* columns = options.candidates.empty() ? nullptr : options.candidates.data();
  const std::int64_t num_columns =
      columns ? static_cast<std::int64_t>(options.candidates.size()) : num_items;
  torch::NoGradGuard no_grad;
  for (std::int64_t first = 0; first < num_queries; first += options.batch) {
    const std::int64_t count = std::min(options.batch, num_queries - first);
    const torch::Tensor batch =
        torch::from_blob(const_cast<std::int32_t*>(queries.data() + first), {count}, torch::kInt32)
            .to(torch::kInt64);
    const torch::Tensor scores = scorer(batch).to(torch::kCPU, torch::kFloat32).contiguous();
    KGREC_CHECK(scores.dim() == 2 && scores.size(0) == count && scores.size(1) == num_items,
                "scorer returned {} for {} queries and {} items", c10::str(scores.sizes()), count,
                num_items);
    const float* block = scores.data_ptr<float>();
    at::parallel_for(0, count, 16, [&](std::int64_t begin, std::int64_t end) {
      std::vector<Scored> heap;
      heap.reserve(k);
      for (std::int64_t b = begin; b < end; ++b) {
        const std::int32_t query = queries[first + b];
        const std::int32_t* excluded = nullptr;
        const std::int32_t* excluded_end = nullptr;
        if (options.excluded != nullptr) {
          excluded = options.excluded->indices.data() + options.excluded->indptr[query];
          excluded_end = options.excluded->indices.data() + options.excluded->indptr[query + 1];
        }
        topOfRow(block + b * num_items, columns, num_columns, excluded, excluded_end, k, &heap);
        const std::int64_t row = first + b;
        out.counts[row] = static_cast<std::int32_t>(heap.size());
        for (std::size_t j = 0; j < heap.size(); ++j) {
          out.items[row * k + j] = heap[j].item;
          out.scores[row * k + j] = heap[j].score;
        }
      }
    });
  }
  return out;
}

}  // namespace kgrec
