#pragma once
// Top-K ranking metrics exactly as the LightGCN reference code computes them
// (utils.RecallPrecision_ATk and utils.NDCGatK_r):
//   recall@K    = hits in the top K / number of the user's test items
//   precision@K = hits in the top K / K
//   ndcg@K      = DCG / IDCG with binary gains, DCG = sum_i hit_i / log2(i + 2) over the top
//                 K, IDCG the same for min(K, number of test items) hits in front;
// each averaged over the users that have at least one test item.

#include <cstdint>
#include <vector>

namespace kgrec {

// Sums over users; additive, so that ranks can reduce them and divide once.
struct MetricSums {
  double recall = 0.0;
  double precision = 0.0;
  double ndcg = 0.0;
  std::int64_t users = 0;

  void add(const MetricSums& other);
  double meanRecall() const { return users ? recall / static_cast<double>(users) : 0.0; }
  double meanPrecision() const { return users ? precision / static_cast<double>(users) : 0.0; }
  double meanNdcg() const { return users ? ndcg / static_cast<double>(users) : 0.0; }
};

// Adds one user's metrics at cut-off k. `ranked`: the user's recommended items, best first
// (at least k of them unless there are fewer items); `relevant`: the user's test items,
// sorted ascending and non-empty.
void addUserMetrics(const std::int64_t* ranked, std::int64_t num_ranked,
                    const std::vector<std::int32_t>& relevant, std::int64_t k, MetricSums* sums);

}  // namespace kgrec
