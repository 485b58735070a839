#pragma once
// Metrics of the top-K lists themselves rather than of their hits (docs/metrics.md has the
// formulas): item coverage and the Gini index of exposure over the catalogue, the share of
// tail items, novelty (self-information under training popularity) and intra-list diversity
// (cosine distance of LM features). They are kept as additive sums (per-item exposure
// counts, sums of per-user values, user counts), so that ranks can add theirs and finalise
// once.

#include <cstdint>
#include <vector>

namespace kgrec {

// What the metrics need to know of each item, from the training set (global counts on
// ranks) and, when the dataset has them, its LM features.
class ItemCatalogue {
 public:
  // Share of the catalogue, by training interactions, that makes the head; the rest is the
  // tail.
  static constexpr double kHeadShare = 0.2;

  // `train_counts`: training interactions per item. `features`: num_items x `dim` row-major
  // LM features, or empty (no diversity).
  ItemCatalogue(std::vector<std::int64_t> train_counts, std::vector<float> features = {},
                std::int64_t dim = 0);

  std::int64_t numItems() const { return static_cast<std::int64_t>(counts_.size()); }
  const std::vector<std::int64_t>& trainCounts() const { return counts_; }
  // The ceil(kHeadShare * items) most-interacted items with at least one interaction (ties
  // by lower index) are the head; every other item is in the tail.
  bool isTail(std::int64_t item) const { return is_tail_[item] != 0; }
  // -log2 p(item), p(item) = (count + 1) / (total + items): add-one smoothing keeps an item
  // without training interactions finite.
  double selfInformation(std::int64_t item) const { return self_information_[item]; }
  bool hasFeatures() const { return dim_ > 0; }
  std::int64_t featureDim() const { return dim_; }
  // The item's features scaled to unit length (all zeros for a zero row).
  const float* unitFeatures(std::int64_t item) const { return unit_features_.data() + item * dim_; }
  bool hasNonZeroFeatures(std::int64_t item) const { return non_zero_[item] != 0; }

 private:
  std::vector<std::int64_t> counts_;
  std::vector<std::uint8_t> is_tail_;
  std::vector<double> self_information_;
  std::vector<float> unit_features_;
  std::int64_t dim_ = 0;
  std::vector<std::uint8_t> non_zero_;  // per item, with features: not a zero row
};

// Sums at one cut-off K; add() of two is the sums over both user sets.
struct ListMetricSums {
  std::vector<std::int64_t> exposure;  // per item: top-K lists that hold it
  double tail_share = 0.0;  // sum over users of (tail items in the list / list length)
  double novelty = 0.0;     // sum over users of the list's mean self-information
  std::int64_t users = 0;   // lists counted in tail_share and novelty
  double diversity = 0.0;   // sum over users of the list's intra-list diversity
  std::int64_t diversity_users = 0;  // lists of two items or more, with features

  void add(const ListMetricSums& other);
  // Share of the catalogue in at least one list.
  double coverage() const;
  // Gini index of `exposure` over the whole catalogue: 0 when every item is recommended
  // equally often, (n - 1) / n when one item takes every slot.
  double gini() const;
  double meanTailShare() const { return users ? tail_share / static_cast<double>(users) : 0.0; }
  double meanNovelty() const { return users ? novelty / static_cast<double>(users) : 0.0; }
  double meanDiversity() const {
    return diversity_users ? diversity / static_cast<double>(diversity_users) : 0.0;
  }
};

// Adds one user's top-k list: the first min(k, num_ranked) of `ranked`. `sums->exposure` is
// sized to the catalogue on first use.
void addListMetrics(const std::int64_t* ranked, std::int64_t num_ranked, std::int64_t k,
                    const ItemCatalogue& catalogue, ListMetricSums* sums);

// The user's test items that are in the tail, into `tail` (`relevant` sorted; `tail` too).
void tailItems(const std::vector<std::int32_t>& relevant, const ItemCatalogue& catalogue,
               std::vector<std::int32_t>* tail);

}  // namespace kgrec
