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

UserItemEmbeddings LightGcnImpl::propagate() const {
  torch::Tensor layer = embedding_;
  torch::Tensor sum = embedding_;
  for (std::int64_t l = 0; l < options_.layers; ++l) {
    layer = symmetricSpmm(graph_, layer);
    sum = sum + layer;
  }
  torch::Tensor mean = sum / static_cast<double>(options_.layers + 1);
  return {mean.narrow(0, 0, options_.num_users),
          mean.narrow(0, options_.num_users, options_.num_items)};
}

torch::Tensor LightGcnImpl::bprLoss(const torch::Tensor& users, const torch::Tensor& positives,
                                    const torch::Tensor& negatives, double l2) const {
  UserItemEmbeddings final_embeddings = propagate();
  torch::Tensor u = final_embeddings.users.index_select(0, users);
  torch::Tensor p = final_embeddings.items.index_select(0, positives);
  torch::Tensor n = final_embeddings.items.index_select(0, negatives);
  torch::Tensor pos_scores = (u * p).sum(1);
  torch::Tensor neg_scores = (u * n).sum(1);
  torch::Tensor loss = torch::nn::functional::softplus(neg_scores - pos_scores).mean();
  if (l2 == 0.0) return loss;
  torch::Tensor u0 = embedding_.index_select(0, users);
  torch::Tensor p0 = embedding_.index_select(0, positives + options_.num_users);
  torch::Tensor n0 = embedding_.index_select(0, negatives + options_.num_users);
  torch::Tensor reg = 0.5 * (u0.pow(2).sum() + p0.pow(2).sum() + n0.pow(2).sum()) /
                      static_cast<double>(users.size(0));
  return loss + l2 * reg;
}

}  // namespace kgrec
