#include "engine/train/losses.h"

#include <vector>

namespace kgrec {
namespace {

torch::Tensor rowIndex(const std::vector<std::int32_t>& rows, torch::Device device) {
  return torch::tensor(std::vector<std::int64_t>(rows.begin(), rows.end()), torch::kInt64)
      .to(device);
}

}  // namespace

LossValue bprLoss(const MiniBatch& batch, const torch::Tensor& out, const torch::Tensor& h0,
                  std::int64_t negatives, double l2, std::int64_t global_batch_size) {
  const auto count = static_cast<std::int64_t>(batch.users.size());
  const torch::Tensor u_rows = rowIndex(batch.user_rows, out.device()),
                      p_rows = rowIndex(batch.positive_rows, out.device()),
                      n_rows = rowIndex(batch.negative_rows, out.device());
  const torch::Tensor u = out.index_select(0, u_rows);
  const torch::Tensor pos = (u * out.index_select(0, p_rows)).sum(1);
  const torch::Tensor neg =
      (u.unsqueeze(1) * out.index_select(0, n_rows).view({count, negatives, out.size(1)})).sum(2);
  const torch::Tensor bpr = torch::softplus(neg - pos.unsqueeze(1)).mean(1).sum();
  const torch::Tensor reg =
      0.5 * (h0.index_select(0, u_rows).pow(2).sum() + h0.index_select(0, p_rows).pow(2).sum() +
             h0.index_select(0, n_rows).pow(2).sum() / static_cast<double>(negatives));
  return {(bpr + l2 * reg) / static_cast<double>(global_batch_size), bpr.item<double>()};
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
