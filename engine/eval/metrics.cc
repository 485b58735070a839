#include "engine/eval/metrics.h"

#include <algorithm>
#include <cmath>

#include "engine/common/error.h"

namespace kgrec {

void MetricSums::add(const MetricSums& other) {
  recall += other.recall;
  precision += other.precision;
  ndcg += other.ndcg;
  users += other.users;
}

void addUserMetrics(const std::int64_t* ranked, std::int64_t num_ranked,
                    const std::vector<std::int32_t>& relevant, std::int64_t k, MetricSums* sums) {
  KGREC_CHECK(!relevant.empty(), "a user without test items has no recall");
  KGREC_CHECK(k > 0, "cut-off k must be positive");
  const std::int64_t top = std::min(k, num_ranked);
  double hits = 0.0, dcg = 0.0, idcg = 0.0;
  for (std::int64_t i = 0; i < top; ++i) {
    if (std::binary_search(relevant.begin(), relevant.end(), ranked[i])) {
      hits += 1.0;
      dcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
    }
  }
  const std::int64_t ideal = std::min<std::int64_t>(k, static_cast<std::int64_t>(relevant.size()));
  for (std::int64_t i = 0; i < ideal; ++i) idcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
  sums->recall += hits / static_cast<double>(relevant.size());
  sums->precision += hits / static_cast<double>(k);
  sums->ndcg += dcg / idcg;
  sums->users += 1;
}

}  // namespace kgrec
