#include "engine/train/full_graph_propagation.h"

#include <cmath>

#include "engine/train/sharded_embedding.h"

namespace kgrec {
FullGraphPropagation::FullGraphPropagation(std::shared_ptr<ProcessGroup> group,
                                           const Shard& shard, const PartitionBook& book,
                                           const GraphStats& stats)
    : group_(std::move(group)),
      shard_(shard),
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
  block_ = BlockTensors::from(block, torch::kCPU);
  owned_ = block.dst_nodes;
  halo_request_ = exchange_.plan(int64Tensor(std::vector<std::int64_t>(
      block.src_nodes.begin() + shard.num_owned, block.src_nodes.end())));
}

torch::Tensor FullGraphPropagation::inputs(const BlockGnn& model, const torch::Tensor& owned_ids,
                                           const torch::Tensor& owned_features) const {
  // Owned nodes are local ids 0 .. num_owned - 1, so the positions are also the rows.
  const InputRows in = inputRows(model, shard_.nodes, owned_);
  const torch::Tensor id_at = int64Tensor(in.id_at), feature_at = int64Tensor(in.feature_at);
  const torch::Tensor features = feature_at.numel() > 0
                                     ? owned_features.index_select(0, feature_at)
                                     : torch::zeros({0, owned_features.size(1)});
  return model->inputs(shard_.num_owned, id_at, owned_ids.index_select(0, id_at), feature_at,
                       features);
}

torch::Tensor FullGraphPropagation::forward(const BlockGnn& model, const torch::Tensor& h0,
                                            EpochTotals* totals) const {
  const int rank = group_->rank();
  torch::Tensor h = h0;
  std::vector<torch::Tensor> per_layer{h};
  for (std::int64_t l = 0; l < model->options().layers; ++l) {
    const torch::Tensor halo = exchange_.fetchWithGradient(halo_request_, h);
    h = model->layer(l, block_, torch::cat({h, halo}));
    per_layer.push_back(h);
    if (totals) {
      // Rows out in the forward, their gradients back in the backward.
      const double rows = static_cast<double>(halo_request_.rowsServedToOthers(rank) +
                                              halo_request_.rowsAskedOfOthers(rank));
      totals->halo_bytes += rows * static_cast<double>(h.size(1) * h.element_size());
      totals->sampled_edges += static_cast<double>(block_.csr.values.numel());
    }
  }
  return model->combine(per_layer);
}

}  // namespace kgrec
