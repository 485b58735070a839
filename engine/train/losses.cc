#include "engine/train/losses.h"

#include <limits>
#include <vector>

#include <torch/nn/functional/normalization.h>

#include "engine/common/error.h"
#include "engine/train/global_batch_rows.h"

namespace kgrec {
namespace {

torch::Tensor unitRows(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  return F::normalize(x, F::NormalizeFuncOptions().p(2).dim(-1).eps(1e-12));
}

// The rows a loss scores: users, positives [n, dim], negatives [n, k, dim], and the l2 term on
// their layer-0 rows (the negatives' divided by their count).
struct SeedRows {
  torch::Tensor users, positives, negatives, reg;
};
SeedRows seedRows(const MiniBatch& batch, const torch::Tensor& out, const torch::Tensor& h0,
                  std::int64_t negatives) {
  const auto count = static_cast<std::int64_t>(batch.users.size());
  const torch::Tensor u_rows = rowIndex(batch.user_rows, out.device()),
                      p_rows = rowIndex(batch.positive_rows, out.device()),
                      n_rows = rowIndex(batch.negative_rows, out.device());
  SeedRows r;
  r.users = out.index_select(0, u_rows);
  r.positives = out.index_select(0, p_rows);
  r.negatives = out.index_select(0, n_rows).view({count, negatives, out.size(1)});
  r.reg = 0.5 * (h0.index_select(0, u_rows).pow(2).sum() + h0.index_select(0, p_rows).pow(2).sum() +
                 h0.index_select(0, n_rows).pow(2).sum() / static_cast<double>(negatives));
  return r;
}

}  // namespace

torch::Tensor rowIndex(const std::vector<std::int32_t>& rows, torch::Device device) {
  return torch::tensor(std::vector<std::int64_t>(rows.begin(), rows.end()), torch::kInt64)
      .to(device);
}

LossValue objectiveLoss(const MiniBatch& batch, const torch::Tensor& out, const torch::Tensor& h0,
                        const ObjectiveOptions& objective, std::int64_t negatives, double l2,
                        std::int64_t global_batch_size, ProcessGroup& group) {
  if (objective.loss == "bpr") return bprLoss(batch, out, h0, negatives, l2, global_batch_size);
  if (objective.loss == "softmax") {
    return softmaxLoss(batch, out, h0, negatives, l2, global_batch_size, objective, group);
  }
  KGREC_CHECK(objective.loss == "ccl", "unknown loss {}", objective.loss);
  return cclLoss(batch, out, h0, negatives, l2, global_batch_size, objective);
}

torch::Tensor inBatchInfoNce(ProcessGroup& group, const torch::Tensor& anchors,
                             const torch::Tensor& own, const std::vector<std::int64_t>& ids,
                             const torch::Tensor& extra, double temperature, bool cosine) {
  const torch::Tensor a = cosine ? unitRows(anchors) : anchors;
  const torch::Tensor b = cosine ? unitRows(own) : own;
  const torch::Tensor all = allGatherRows(group, b);
  const torch::Tensor all_ids = allGatherIds(group, ids).to(anchors.device());
  const torch::Tensor own_ids = torch::tensor(ids, torch::kInt64).view({-1}).to(anchors.device());
  const torch::Tensor positive = (a * b).sum(1) / temperature;
  // b_i's own id among the gathered rows: itself, and any repeat of its node in the batch.
  const torch::Tensor in_batch =
      (a.mm(all.t()) / temperature)
          .masked_fill(own_ids.unsqueeze(1) == all_ids.unsqueeze(0),
                       -std::numeric_limits<float>::infinity());
  std::vector<torch::Tensor> logits{positive.unsqueeze(1), in_batch};
  if (extra.defined()) {
    const torch::Tensor e = cosine ? unitRows(extra) : extra;
    logits.push_back((a.unsqueeze(1) * e).sum(2) / temperature);
  }
  return (torch::logsumexp(torch::cat(logits, 1), 1) - positive).sum();
}

LossValue softmaxLoss(const MiniBatch& batch, const torch::Tensor& out, const torch::Tensor& h0,
                      std::int64_t negatives, double l2, std::int64_t global_batch_size,
                      const ObjectiveOptions& objective, ProcessGroup& group) {
  const SeedRows r = seedRows(batch, out, h0, negatives);
  const torch::Tensor loss =
      inBatchInfoNce(group, r.users, r.positives, batch.positives, r.negatives,
                     objective.temperature, objective.similarity == "cosine");
  return {(loss + l2 * r.reg) / static_cast<double>(global_batch_size), loss.item<double>()};
}

LossValue cclLoss(const MiniBatch& batch, const torch::Tensor& out, const torch::Tensor& h0,
                  std::int64_t negatives, double l2, std::int64_t global_batch_size,
                  const ObjectiveOptions& objective) {
  const SeedRows r = seedRows(batch, out, h0, negatives);
  const torch::Tensor u = unitRows(r.users);
  const torch::Tensor positive = (u * unitRows(r.positives)).sum(1);
  const torch::Tensor negative = (u.unsqueeze(1) * unitRows(r.negatives)).sum(2);
  const torch::Tensor loss =
      ((1.0 - positive) +
       objective.negative_weight * torch::relu(negative - objective.margin).mean(1))
          .sum();
  return {(loss + l2 * r.reg) / static_cast<double>(global_batch_size), loss.item<double>()};
}

LossValue bprLoss(const MiniBatch& batch, const torch::Tensor& out, const torch::Tensor& h0,
                  std::int64_t negatives, double l2, std::int64_t global_batch_size) {
  const SeedRows r = seedRows(batch, out, h0, negatives);
  const torch::Tensor pos = (r.users * r.positives).sum(1);
  const torch::Tensor neg = (r.users.unsqueeze(1) * r.negatives).sum(2);
  const torch::Tensor bpr = torch::softplus(neg - pos.unsqueeze(1)).mean(1).sum();
  return {(bpr + l2 * r.reg) / static_cast<double>(global_batch_size), bpr.item<double>()};
}

LossValue transrLoss(const BlockGnn& model, const KgTriples& triples, const torch::Tensor& rows,
                     double l2, double norm) {
  const auto n = static_cast<std::int64_t>(triples.size());
  const torch::Tensor heads = rows.narrow(0, 0, n), tails = rows.narrow(0, n, n),
                      corrupt = rows.narrow(0, 2 * n, n);
  const torch::Tensor relations = torch::tensor(triples.relations, torch::kInt64).to(rows.device());
  const torch::Tensor transr =
      torch::softplus(model->transrDistance(heads, relations, tails) -
                      model->transrDistance(corrupt, relations, tails))
          .sum();
  return {(transr + 0.5 * l2 * rows.pow(2).sum()) / norm, transr.item<double>()};
}

}  // namespace kgrec
