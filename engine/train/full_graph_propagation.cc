#include "engine/train/full_graph_propagation.h"

#include <cmath>

#include <torch/autograd.h>

#include "engine/train/sharded_embedding.h"

namespace kgrec {
namespace {

// LightGCN's propagation as one autograd node: forward and backward are both a layer mean,
// the backward over the transposed graph (halo gradients go back to their owners).
class LayerMeanFunction : public torch::autograd::Function<LayerMeanFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x,
                               const FullGraphPropagation* propagation, std::int64_t layers) {
    ctx->saved_data["propagation"] = reinterpret_cast<std::int64_t>(propagation);
    ctx->saved_data["layers"] = layers;
    return propagation->layerMean(x, layers, /*transpose=*/false);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto* propagation =
        reinterpret_cast<const FullGraphPropagation*>(ctx->saved_data["propagation"].toInt());
    return {propagation->layerMean(grads[0], ctx->saved_data["layers"].toInt(), true),
            torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

FullGraphPropagation::FullGraphPropagation(std::shared_ptr<ProcessGroup> group,
                                           const Shard& shard, const PartitionBook& book,
                                           const GraphStats& stats, torch::Device device)
    : group_(std::move(group)),
      shard_(shard),
      device_(device),
      exchange_(group_, std::make_shared<PartitionBookOwnership>(book)) {
  Block block;
  block.dst_nodes.assign(shard.global_ids.begin(), shard.global_ids.begin() + shard.num_owned);
  block.src_nodes.assign(shard.global_ids.begin(), shard.global_ids.end());
  block.indptr = shard.graph.indptr;
  block.indices = shard.graph.indices;
  block.relations = shard.graph.relations;
  block.edge_weight.reserve(block.indices.size());
  for (std::int64_t v = 0; v < shard.num_owned; ++v) {
    for (std::int64_t e = block.indptr[v]; e < block.indptr[v + 1]; ++e) {
      const double degrees = static_cast<double>(stats.degree[block.dst_nodes[v]]) *
                             stats.degree[block.src_nodes[block.indices[e]]];
      block.edge_weight.push_back(static_cast<float>(1.0 / std::sqrt(degrees)));
    }
  }
  block_ = BlockTensors::from(block, device_);
  owned_ = block.dst_nodes;
  halo_request_ = exchange_.plan(int64Tensor(std::vector<std::int64_t>(
      block.src_nodes.begin() + shard.num_owned, block.src_nodes.end())));
}

torch::Tensor FullGraphPropagation::inputs(const BlockGnn& model, const torch::Tensor& owned_ids,
                                           const torch::Tensor& owned_features) const {
  // Owned nodes are local ids 0 .. num_owned - 1, so the positions are also the rows.
  const InputRows in = inputRows(model, shard_.nodes, owned_);
  const torch::Tensor id_at = int64Tensor(in.id_at).to(device_),
                      feature_at = int64Tensor(in.feature_at).to(device_);
  const torch::Tensor features =
      feature_at.numel() > 0 ? owned_features.index_select(0, feature_at)
                             : torch::zeros({0, owned_features.size(1)}, owned_features.options());
  // Every owned node has an ID row (ID inputs): the table itself, not a gathered copy.
  const torch::Tensor id_rows =
      id_at.numel() == shard_.num_owned ? owned_ids : owned_ids.index_select(0, id_at);
  return model->inputs(shard_.num_owned, id_at, id_rows, feature_at, features);
}

torch::Tensor FullGraphPropagation::forward(const BlockGnn& model, const torch::Tensor& h0,
                                            EpochTotals* totals, const LayerHook& hook) const {
  const std::int64_t layers = model->options().layers;
  // Each layer's input rows out in the forward and their gradients back in the backward, at
  // the width and precision they cross in (half of fp32's under --precision bf16/fp16).
  const double halo_rows =
      static_cast<double>(halo_request_.rowsServedToOthers(group_->rank()) +
                          halo_request_.rowsAskedOfOthers(group_->rank()));
  const auto countHalo = [&](const torch::Tensor& h) {
    if (totals) totals->halo_bytes += halo_rows * static_cast<double>(h.size(1) * h.element_size());
  };
  if (totals) totals->sampled_edges += static_cast<double>(layers * block_.csr.values.numel());
  if (model->options().model == "lightgcn" && !hook) {
    for (std::int64_t l = 0; l < layers; ++l) countHalo(h0);  // fp32 sums, as wide as h0
    return LayerMeanFunction::apply(h0, this, layers);
  }
  torch::Tensor h = h0;
  std::vector<torch::Tensor> per_layer{h};
  for (std::int64_t l = 0; l < layers; ++l) {
    countHalo(h);
    const torch::Tensor halo = exchange_.fetchWithGradient(halo_request_, h);
    h = model->layer(l, block_, halo.size(0) == 0 ? h : torch::cat({h, halo}));
    if (hook) h = hook(l, h);
    per_layer.push_back(h);
  }
  return model->combine(per_layer);
}

torch::Tensor FullGraphPropagation::layerMean(const torch::Tensor& x, std::int64_t layers,
                                              bool transpose) const {
  // The sum accumulates in place over a copy of x, which is also layer 0's input: each layer
  // reads its input before the sum grows by its output.
  torch::Tensor sum = x.is_contiguous() ? x.clone() : x.contiguous();
  torch::Tensor h = sum;
  for (std::int64_t l = 0; l < layers; ++l) {
    if (transpose) {
      // A^T maps the owned rows to the sources (owned, then halo): the halo's rows go back to
      // their owners, which add them to their own.
      torch::Tensor src = spmm(block_.csr_t, h);
      torch::Tensor owned = src.narrow(0, 0, shard_.num_owned);
      exchange_.pushGradients(halo_request_, src.narrow(0, shard_.num_owned,
                                                        src.size(0) - shard_.num_owned),
                              owned);
      h = owned;
    } else {
      const torch::Tensor halo = exchange_.fetch(halo_request_, h);
      h = spmm(block_.csr, halo.size(0) == 0 ? h : torch::cat({h, halo}));
    }
    sum.add_(h);
  }
  return sum.div_(static_cast<double>(layers + 1));
}

}  // namespace kgrec
