#include "engine/train/distributed_evaluator.h"

#include <chrono>

#include "engine/common/error.h"
#include "engine/eval/exposure_table.h"

namespace kgrec {
namespace {

// Every item's row [num_items, d], from the rank that owns it: `rows` are the rows of this
// rank's owned nodes `owned` (global ids). Collective.
torch::Tensor gatherItemRows(ProcessGroup& group, const NodeSpace& space,
                             const std::vector<std::int64_t>& owned, const torch::Tensor& rows) {
  std::vector<std::int64_t> item_rows, item_index;
  for (std::size_t v = 0; v < owned.size(); ++v) {
    if (space.typeOf(owned[v]) != NodeType::kItem) continue;
    item_rows.push_back(static_cast<std::int64_t>(v));
    item_index.push_back(owned[v] - space.num_users);
  }
  WorkPtr rows_work =
      group.allGatherV(rows.index_select(0, int64Tensor(item_rows).to(rows.device())));
  WorkPtr index_work = group.allGatherV(int64Tensor(item_index));
  torch::Tensor items = torch::zeros({space.num_items, rows.size(1)}, rows.options());
  items.index_copy_(0, index_work->result().tensor.to(rows.device()), rows_work->result().tensor);
  return items;
}

// Every item's LM features as num_items x cols values; empty when the dataset has none (the
// same on every rank). Collective when it has.
std::vector<float> gatherItemFeatures(ProcessGroup& group, const Shard& shard) {
  if (shard.lm.cols == 0) return {};
  const std::vector<std::int64_t> owned(shard.global_ids.begin(),
                                        shard.global_ids.begin() + shard.num_owned);
  const torch::Tensor lm = torch::from_blob(const_cast<float*>(shard.lm.data.data()),
                                            {shard.lm.rows, shard.lm.cols}, torch::kFloat32);
  const torch::Tensor all =
      gatherItemRows(group, shard.nodes, owned, lm.narrow(0, 0, shard.num_owned));
  return {all.data_ptr<float>(), all.data_ptr<float>() + all.numel()};
}

}  // namespace

DistributedEvaluator::DistributedEvaluator(std::shared_ptr<ProcessGroup> group,
                                           const Shard& shard, const GraphStats& stats,
                                           const FullGraphPropagation& propagation,
                                           std::vector<std::int64_t> ks)
    : DistributedEvaluator(std::move(group), shard, stats, std::move(ks)) {
  propagation_ = &propagation;
}

DistributedEvaluator::DistributedEvaluator(std::shared_ptr<ProcessGroup> group,
                                           const Shard& shard, const GraphStats& stats,
                                           std::vector<std::int64_t> ks)
    : group_(std::move(group)),
      shard_(shard),
      stats_(stats),
      propagation_(nullptr),
      train_items_(userItemCsr(shard.train, shard.nodes.num_users)),
      test_items_(userItemCsr(shard.test, shard.nodes.num_users)) {
  RankingEvalOptions eo;
  eo.ks = std::move(ks);
  eo.cold_items = shard.cold_items;
  eo.item_train_counts = stats.item_interactions;
  eo.item_features = gatherItemFeatures(*group_, shard);
  eo.item_feature_dim = shard.lm.cols;
  evaluator_ = std::make_unique<RankingEvaluator>(train_items_, test_items_,
                                                  shard.nodes.num_items, eo);
}

nlohmann::json DistributedEvaluator::evaluate(const BlockGnn& model, const torch::Tensor& h0) const {
  return toJson(rankModel(model, h0));
}

nlohmann::json DistributedEvaluator::evaluatePopularity() const { return toJson(rankPopularity()); }

RankingEvalResult DistributedEvaluator::rankModel(const BlockGnn& model,
                                                  const torch::Tensor& h0) const {
  KGREC_CHECK(propagation_ != nullptr, "DistributedEvaluator::rankModel without a propagation");
  torch::NoGradGuard no_grad;
  const torch::Tensor out = propagation_->forward(model, h0);
  // Every rank gets every item's row; each scores its own test users.
  const NodeSpace& space = shard_.nodes;
  const std::vector<std::int64_t>& owned = propagation_->ownedNodes();
  std::vector<std::int64_t> user_row(space.num_users, -1);
  for (std::size_t v = 0; v < owned.size(); ++v) {
    if (space.typeOf(owned[v]) == NodeType::kUser) {
      user_row[owned[v]] = static_cast<std::int64_t>(v);
    }
  }
  const torch::Tensor items = gatherItemRows(*group_, space, owned, out);
  // Scored and ranked on the model's device; the users' indices come from the host.
  const torch::Tensor rows_of_user = int64Tensor(user_row).to(out.device());
  return rankUsers([&](const torch::Tensor& users) {
    return torch::matmul(
        out.index_select(0, rows_of_user.index_select(0, users.to(out.device()))), items.t());
  });
}

RankingEvalResult DistributedEvaluator::rankPopularity() const {
  const std::vector<std::int64_t>& counts = stats_.item_interactions;
  const torch::Tensor popularity =
      torch::tensor(std::vector<float>(counts.begin(), counts.end()), torch::kFloat32);
  return rankUsers([&](const torch::Tensor& users) {
    return popularity.unsqueeze(0).expand({users.size(0), popularity.size(0)});
  });
}

RankingEvalResult DistributedEvaluator::rankUsers(const UserScorer& scorer) const {
  const auto start = std::chrono::steady_clock::now();
  RankingEvalResult result = evaluator_->evaluate(scorer);
  // Sums of every rank in one all-reduce, in this order on every rank: (recall, precision,
  // ndcg, users) per k, for all, tail, cold, warm; then per k the list sums and the per-item
  // exposure counts (exact in doubles below 2^53).
  std::vector<std::vector<MetricSums>*> groups{&result.sums, &result.tail_sums};
  if (!shard_.cold_items.empty()) {
    groups.push_back(&result.cold_sums);
    groups.push_back(&result.warm_sums);
  }
  std::vector<double> packed;
  for (auto* sums : groups) {
    for (const MetricSums& s : *sums) {
      packed.insert(packed.end(), {s.recall, s.precision, s.ndcg, static_cast<double>(s.users)});
    }
  }
  const std::int64_t num_items = shard_.nodes.num_items;
  for (ListMetricSums& l : result.lists) {
    l.exposure.resize(num_items, 0);  // a rank without test users counted nothing
    packed.insert(packed.end(), {l.tail_share, l.novelty, static_cast<double>(l.users),
                                 l.diversity, static_cast<double>(l.diversity_users)});
    packed.insert(packed.end(), l.exposure.begin(), l.exposure.end());
  }
  torch::Tensor total = torch::tensor(packed, torch::kFloat64);
  group_->allReduce(total)->wait();
  const double* t = total.data_ptr<double>();
  for (auto* sums : groups) {
    for (MetricSums& s : *sums) {
      s.recall = *t++;
      s.precision = *t++;
      s.ndcg = *t++;
      s.users = static_cast<std::int64_t>(*t++);
    }
  }
  for (ListMetricSums& l : result.lists) {
    l.tail_share = *t++;
    l.novelty = *t++;
    l.users = static_cast<std::int64_t>(*t++);
    l.diversity = *t++;
    l.diversity_users = static_cast<std::int64_t>(*t++);
    for (std::int64_t& e : l.exposure) e = static_cast<std::int64_t>(*t++);
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

nlohmann::json metricsWithBaseline(const DistributedEvaluator& evaluator,
                                   const RankingEvalResult& ranked, const std::string& exposure_out) {
  const RankingEvalResult popularity = evaluator.rankPopularity();
  if (!exposure_out.empty()) {
    writeExposureTable(exposure_out, evaluator.catalogue(), ranked, popularity);
  }
  nlohmann::json metrics = toJson(ranked);
  metrics["popularity_baseline"] = toJson(popularity);
  return metrics;
}

}  // namespace kgrec
