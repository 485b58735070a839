// topKItems against a brute-force sort of every eligible item: random scores with many ties,
// excluded items, candidate lists, fewer eligible items than k, NaN scores, and independence
// of the batch size.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "engine/common/error.h"
#include "engine/recommend/top_k_items.h"

namespace kgrec {
namespace {

struct Entry {
  std::int32_t item;
  float score;
  bool operator==(const Entry& o) const {
    return item == o.item && (score == o.score || (std::isnan(score) && std::isnan(o.score)));
  }
};

std::ostream& operator<<(std::ostream& out, const Entry& e) {
  return out << "(" << e.item << ", " << e.score << ")";
}

// Brute force: every eligible item, sorted by score descending then item ascending, first k.
std::vector<Entry> bruteForce(const torch::Tensor& scores, std::int32_t query, std::int64_t k,
                              const Csr* excluded, const std::vector<std::int32_t>& candidates) {
  std::vector<std::int32_t> items = candidates;
  if (items.empty()) {
    items.resize(scores.size(1));
    std::iota(items.begin(), items.end(), 0);
  }
  std::vector<Entry> all;
  for (std::int32_t item : items) {
    if (excluded != nullptr &&
        std::binary_search(excluded->indices.begin() + excluded->indptr[query],
                           excluded->indices.begin() + excluded->indptr[query + 1], item)) {
      continue;
    }
    const float s = scores[query][item].item<float>();
    if (!std::isnan(s)) all.push_back({item, s});
  }
  std::sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) {
    return a.score > b.score || (a.score == b.score && a.item < b.item);
  });
  if (static_cast<std::int64_t>(all.size()) > k) all.resize(k);
  return all;
}

std::vector<Entry> rowOf(const TopKLists& lists, std::size_t r) {
  std::vector<Entry> out;
  for (std::int32_t j = 0; j < lists.counts[r]; ++j) {
    out.push_back({lists.items[r * lists.k + j], lists.scores[r * lists.k + j]});
  }
  for (std::int64_t j = lists.counts[r]; j < lists.k; ++j) {  // the unused tail
    EXPECT_EQ(lists.items[r * lists.k + j], -1);
    EXPECT_TRUE(std::isnan(lists.scores[r * lists.k + j]));
  }
  return out;
}

// A scorer that looks rows up in a fixed table, as an embedding model's u . V^T would.
UserScorer tableScorer(torch::Tensor table) {
  return [table](const torch::Tensor& queries) { return table.index_select(0, queries); };
}

// Random excluded items per query (sorted), about `share` of all items.
Csr randomExcluded(std::int64_t queries, std::int64_t items, double share, std::mt19937& rng) {
  Csr csr;
  csr.indptr.push_back(0);
  std::bernoulli_distribution pick(share);
  for (std::int64_t q = 0; q < queries; ++q) {
    for (std::int32_t i = 0; i < items; ++i) {
      if (pick(rng)) csr.indices.push_back(i);
    }
    csr.indptr.push_back(static_cast<std::int64_t>(csr.indices.size()));
  }
  return csr;
}

class TopKItemsTest : public ::testing::Test {
 protected:
  // Scores on a coarse grid (multiples of 1/8 in [-1, 1]), so that ties are common.
  void SetUp() override {
    torch::manual_seed(11);
    scores_ = torch::randint(-8, 9, {kQueries, kItems}).to(torch::kFloat32) / 8;
    queries_.resize(kQueries);
    std::iota(queries_.begin(), queries_.end(), 0);
    std::shuffle(queries_.begin(), queries_.end(), rng_);
  }
  void expectBruteForce(const TopKOptions& options) {
    const TopKLists lists = topKItems(tableScorer(scores_), queries_, kItems, options);
    ASSERT_EQ(lists.counts.size(), queries_.size());
    for (std::size_t r = 0; r < queries_.size(); ++r) {
      EXPECT_EQ(rowOf(lists, r),
                bruteForce(scores_, queries_[r], options.k, options.excluded, options.candidates))
          << "query " << queries_[r];
    }
  }

  static constexpr std::int64_t kQueries = 97;
  static constexpr std::int64_t kItems = 300;
  std::mt19937 rng_{5};
  torch::Tensor scores_;
  std::vector<std::int32_t> queries_;
};

TEST_F(TopKItemsTest, MatchesSortingEveryItemWithTiesToTheLowerItem) {
  for (std::int64_t k : {1, 5, 20, 299, 300, 400}) {
    TopKOptions options;
    options.k = k;
    options.batch = 16;
    expectBruteForce(options);
  }
}

TEST_F(TopKItemsTest, LeavesOutExcludedItems) {
  const Csr excluded = randomExcluded(kQueries, kItems, 0.3, rng_);
  TopKOptions options;
  options.k = 20;
  options.excluded = &excluded;
  expectBruteForce(options);
  // No list holds an excluded item, and the excluded items would have been picked otherwise.
  const TopKLists with = topKItems(tableScorer(scores_), queries_, kItems, options);
  options.excluded = nullptr;
  const TopKLists without = topKItems(tableScorer(scores_), queries_, kItems, options);
  EXPECT_NE(with.items, without.items);
}

TEST_F(TopKItemsTest, RanksOnlyCandidates) {
  const Csr excluded = randomExcluded(kQueries, kItems, 0.2, rng_);
  TopKOptions options;
  options.k = 10;
  options.excluded = &excluded;
  for (std::int32_t i = 3; i < kItems; i += 7) options.candidates.push_back(i);
  expectBruteForce(options);
  const TopKLists lists = topKItems(tableScorer(scores_), queries_, kItems, options);
  for (std::size_t e = 0; e < lists.items.size(); ++e) {
    if (lists.items[e] >= 0) {
      EXPECT_EQ(lists.items[e] % 7, 3);
    }
  }
}

TEST_F(TopKItemsTest, ReturnsFewerWhenFewerItemsAreEligible) {
  TopKOptions options;
  options.k = 5;
  options.candidates = {0, 1, 2, 3, 4, 5};
  const Csr excluded = randomExcluded(kQueries, kItems, 0.5, rng_);
  options.excluded = &excluded;
  expectBruteForce(options);
  const TopKLists lists = topKItems(tableScorer(scores_), queries_, kItems, options);
  EXPECT_LT(*std::min_element(lists.counts.begin(), lists.counts.end()), 5);
}

TEST_F(TopKItemsTest, NeverPicksNaNScoresButKeepsInfinities) {
  scores_[0].fill_(std::numeric_limits<float>::quiet_NaN());
  scores_[1][7] = std::numeric_limits<float>::quiet_NaN();
  scores_[2][9] = -std::numeric_limits<float>::infinity();
  scores_[3][4] = std::numeric_limits<float>::infinity();
  TopKOptions options;
  options.k = kItems;
  expectBruteForce(options);
}

TEST_F(TopKItemsTest, DoesNotDependOnTheBatchSize) {
  TopKOptions options;
  options.k = 20;
  options.batch = 1;
  const TopKLists one = topKItems(tableScorer(scores_), queries_, kItems, options);
  options.batch = 1000;
  const TopKLists all = topKItems(tableScorer(scores_), queries_, kItems, options);
  EXPECT_EQ(one.items, all.items);
  EXPECT_EQ(one.counts, all.counts);
}

TEST_F(TopKItemsTest, RefusesAScorerOfTheWrongShape) {
  const UserScorer wrong = [](const torch::Tensor& q) { return torch::zeros({q.size(0), 3}); };
  EXPECT_THROW(topKItems(wrong, queries_, kItems, TopKOptions{}), Error);
  TopKOptions bad_candidate;
  bad_candidate.candidates = {kItems};
  EXPECT_THROW(topKItems(tableScorer(scores_), queries_, kItems, bad_candidate), Error);
}

TEST(TopKItems, InnerProductScorerRanksByUserItemProducts) {
  // Items along a line: the user (1, 0) prefers larger x, the user (-1, 0) smaller.
  const torch::Tensor items = torch::tensor({{0.f, 1.f}, {2.f, 0.f}, {1.f, 5.f}, {-3.f, 0.f}});
  const torch::Tensor users = torch::tensor({{1.f, 0.f}, {-1.f, 0.f}});
  TopKOptions options;
  options.k = 2;
  const TopKLists lists = topKItems(innerProductScorer(users, items), {0, 1}, 4, options);
  EXPECT_EQ(lists.items, (std::vector<std::int32_t>{1, 2, 3, 0}));
  EXPECT_EQ(lists.scores, (std::vector<float>{2.f, 1.f, 3.f, 0.f}));
}

}  // namespace
}  // namespace kgrec
