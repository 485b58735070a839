#include "engine/eval/beyond_accuracy.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/common/error.h"

namespace kgrec {

ItemCatalogue::ItemCatalogue(std::vector<std::int64_t> train_counts, std::vector<float> features,
                             std::int64_t dim)
    : counts_(std::move(train_counts)),
      unit_features_(std::move(features)),
      dim_(unit_features_.empty() ? 0 : dim) {
  const std::int64_t n = numItems();
  KGREC_CHECK(unit_features_.empty() ||
                  (dim > 0 && static_cast<std::int64_t>(unit_features_.size()) == n * dim),
              "{} feature values for {} items of dimension {}", unit_features_.size(), n, dim);
  std::vector<std::int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int64_t a, std::int64_t b) { return counts_[a] > counts_[b]; });
  const auto head = static_cast<std::int64_t>(std::ceil(kHeadShare * static_cast<double>(n)));
  is_tail_.assign(n, 1);
  for (std::int64_t i = 0; i < head && counts_[order[i]] > 0; ++i) is_tail_[order[i]] = 0;

  const double total = static_cast<double>(std::accumulate(counts_.begin(), counts_.end(),
                                                           std::int64_t{0}));
  self_information_.resize(n);
  for (std::int64_t i = 0; i < n; ++i) {
    self_information_[i] = -std::log2((static_cast<double>(counts_[i]) + 1.0) /
                                      (total + static_cast<double>(n)));
  }

  non_zero_.assign(dim_ > 0 ? n : 0, 0);
  for (std::int64_t i = 0; i < n && dim_ > 0; ++i) {
    float* row = unit_features_.data() + i * dim_;
    double norm = 0.0;
    for (std::int64_t c = 0; c < dim_; ++c) norm += static_cast<double>(row[c]) * row[c];
    if (norm == 0.0) continue;
    non_zero_[i] = 1;
    const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
    for (std::int64_t c = 0; c < dim_; ++c) row[c] *= scale;
  }
}

void ListMetricSums::add(const ListMetricSums& other) {
  if (exposure.empty()) exposure.assign(other.exposure.size(), 0);
  KGREC_CHECK(other.exposure.empty() || other.exposure.size() == exposure.size(),
              "exposure over {} and {} items", exposure.size(), other.exposure.size());
  for (std::size_t i = 0; i < other.exposure.size(); ++i) exposure[i] += other.exposure[i];
  tail_share += other.tail_share;
  novelty += other.novelty;
  users += other.users;
  diversity += other.diversity;
  diversity_users += other.diversity_users;
}

double ListMetricSums::coverage() const {
  if (exposure.empty()) return 0.0;
  const auto shown = std::count_if(exposure.begin(), exposure.end(),
                                   [](std::int64_t e) { return e > 0; });
  return static_cast<double>(shown) / static_cast<double>(exposure.size());
}

double ListMetricSums::gini() const {
  std::vector<std::int64_t> sorted = exposure;
  std::sort(sorted.begin(), sorted.end());
  const auto n = static_cast<double>(sorted.size());
  double total = 0.0, weighted = 0.0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const auto x = static_cast<double>(sorted[i]);
    total += x;
    weighted += (2.0 * static_cast<double>(i + 1) - n - 1.0) * x;
  }
  return total > 0.0 ? weighted / (n * total) : 0.0;
}

void addListMetrics(const std::int64_t* ranked, std::int64_t num_ranked, std::int64_t k,
                    const ItemCatalogue& catalogue, ListMetricSums* sums) {
  KGREC_CHECK(k > 0, "cut-off k must be positive");
  const std::int64_t length = std::min(k, num_ranked);
  if (length == 0) return;
  if (sums->exposure.empty()) sums->exposure.assign(catalogue.numItems(), 0);
  double tail = 0.0, information = 0.0;
  for (std::int64_t i = 0; i < length; ++i) {
    const std::int64_t item = ranked[i];
    ++sums->exposure[item];
    tail += catalogue.isTail(item) ? 1.0 : 0.0;
    information += catalogue.selfInformation(item);
  }
  sums->tail_share += tail / static_cast<double>(length);
  sums->novelty += information / static_cast<double>(length);
  sums->users += 1;
  if (!catalogue.hasFeatures() || length < 2) return;
  // sum_{i<j} cos(f_i, f_j) = (|sum_i f_i|^2 - sum_i |f_i|^2) / 2 for unit (or zero) rows:
  // O(K d) per list instead of O(K^2 d).
  // |f_i|^2 is 1, or 0 for a zero row. A float sum of K unit rows is exact to ~1e-6 and
  // vectorises.
  const std::int64_t dim = catalogue.featureDim();
  double self = 0.0;
  thread_local std::vector<float> total;
  total.assign(dim, 0.0f);
  for (std::int64_t i = 0; i < length; ++i) {
    if (!catalogue.hasNonZeroFeatures(ranked[i])) continue;
    self += 1.0;
    const float* row = catalogue.unitFeatures(ranked[i]);
    for (std::int64_t c = 0; c < dim; ++c) total[c] += row[c];
  }
  double squared = 0.0;
  for (float t : total) squared += static_cast<double>(t) * t;
  const double pairs = static_cast<double>(length) * static_cast<double>(length - 1) / 2.0;
  sums->diversity += 1.0 - (squared - self) / 2.0 / pairs;
  sums->diversity_users += 1;
}

void tailItems(const std::vector<std::int32_t>& relevant, const ItemCatalogue& catalogue,
               std::vector<std::int32_t>* tail) {
  tail->clear();
  for (std::int32_t item : relevant) {
    if (catalogue.isTail(item)) tail->push_back(item);
  }
}

}  // namespace kgrec
