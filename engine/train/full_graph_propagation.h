#pragma once
// Full-graph propagation distributed by partition: each rank computes its own nodes' rows of
// every layer from its part's whole in-edge rows (the shard's graph); before each layer it
// fetches its halo's rows from their owners, and in backward it sends the halo rows'
// gradients back to them. Traffic per layer is the halo, which METIS keeps small. On one
// process the halo is empty and a layer is one sparse product. Training (with autograd) and
// evaluation (without) run the same code. LightGCN, whose layers are linear and unweighted,
// takes a path of its own: one autograd node for all layers whose backward runs the
// transposed layers the same way, instead of an autograd graph over every layer's tables.

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "comm/row_exchange.h"
#include "engine/train/epoch_metrics.h"
#include "models/block_gnn.h"
#include "partition/partition_book.h"
#include "partition/shard.h"
#include "sampler/neighbor_sampler.h"

namespace kgrec {

class FullGraphPropagation {
 public:
  // Collective (plans the halo fetch). The edge weights are LightGCN's 1/sqrt(d(u) d(v)) with
  // the whole graph's degrees; the graph's tensors live on `device`, where the rows
  // propagated must be. The shard and book must outlive the object.
  FullGraphPropagation(std::shared_ptr<ProcessGroup> group, const Shard& shard,
                       const PartitionBook& book, const GraphStats& stats,
                       torch::Device device = torch::kCPU);

  // Layer-0 rows of the owned nodes [num_owned, dim] from the owned ID rows and the owned
  // feature rows, both in local-id order and on the propagation's device.
  torch::Tensor inputs(const BlockGnn& model, const torch::Tensor& owned_ids,
                       const torch::Tensor& owned_features) const;
  // Collective: the owned nodes' output rows [num_owned, model->outputDim()] from their layer-0
  // rows; differentiable when grad mode is on (then its backward is collective too). Adds the
  // halo traffic and edges to `totals` when given. `hook`, when set, is applied to every
  // layer's owned output rows (in ownedNodes() order) before the next layer fetches its halo;
  // LightGCN then takes the per-layer path instead of its fused one.
  torch::Tensor forward(const BlockGnn& model, const torch::Tensor& h0,
                        EpochTotals* totals = nullptr, const LayerHook& hook = {}) const;

  // Owned nodes by local id (global ids).
  const std::vector<std::int64_t>& ownedNodes() const { return owned_; }
  // An exchange of owned rows by global id, for rows of any owned table.
  const RowExchange& exchange() const { return exchange_; }

  // Collective: mean(x, A x, ..., A^layers x) over the owned rows, each A fetching the halo's
  // rows first; with `transpose`, the same with A^T, whose halo rows' results are added to
  // their owners' (the backward of the former). No autograd.
  torch::Tensor layerMean(const torch::Tensor& x, std::int64_t layers, bool transpose) const;

 private:
  std::shared_ptr<ProcessGroup> group_;
  const Shard& shard_;
  torch::Device device_;
  RowExchange exchange_;
  BlockTensors block_;
  std::vector<std::int64_t> owned_;
  RowRequest halo_request_;
};

}  // namespace kgrec
