#include "models/lightgcn.h"

#include <torch/nn/functional/activation.h>

#include "engine/common/error.h"

namespace kgrec {

LightGcnImpl::LightGcnImpl(const LightGcnOptions& options, CsrTensors graph)
    : options_(options), graph_(std::move(graph)) {
  const std::int64_t n = options.num_users + options.num_items;
  KGREC_CHECK(graph_.num_rows == n, "LightGCN graph has {} rows, expected {} users + {} items",
              graph_.num_rows, options.num_users, options.num_items);
  KGREC_CHECK(options.dim > 0 && options.layers >= 0, "LightGCN needs dim > 0 and layers >= 0");
  embedding_ = register_parameter(
      "embedding", torch::randn({n, options.dim}, graph_.values.options()) * options.init_std);
}

torch::Tensor LightGcnImpl::propagateAll() const {
  return symmetricLayerMean(graph_, embedding_, options_.layers);
}

UserItemEmbeddings LightGcnImpl::propagate() const {
  torch::Tensor mean = propagateAll();
  return {mean.narrow(0, 0, options_.num_users),
          mean.narrow(0, options_.num_users, options_.num_items)};
}

torch::Tensor LightGcnImpl::bprLoss(const torch::Tensor& users, const torch::Tensor& positives,
                                    const torch::Tensor& negatives, double l2) const {
  // One gather of the batch's users, positives and negatives (global rows), so that the
  // backward pass scatters into one dense gradient instead of three.
  const std::int64_t b = users.size(0);
  torch::Tensor rows = torch::cat({users, positives + options_.num_users, negatives + options_.num_users});
  torch::Tensor selected = propagateAll().index_select(0, rows);
  torch::Tensor u = selected.narrow(0, 0, b);
  torch::Tensor pos_scores = (u * selected.narrow(0, b, b)).sum(1);
  torch::Tensor neg_scores = (u * selected.narrow(0, 2 * b, b)).sum(1);
  torch::Tensor loss = torch::nn::functional::softplus(neg_scores - pos_scores).mean();
  if (l2 == 0.0) return loss;
  torch::Tensor reg = 0.5 * embedding_.index_select(0, rows).pow(2).sum() / static_cast<double>(b);
  return loss + l2 * reg;
}

}  // namespace kgrec
