#pragma once
// SimGCL's contrastive regulariser (Yu et al., "Are Graph Augmentations Necessary?", SIGIR
// 2022): two views of the propagation, each adding to every layer's output rows h the noise
// sign(h) * eps * x / |x| (x uniform in [0, 1)^dim), and InfoNCE between the two views of the
// batch's users and of its positive items (docs/objectives.md). The noise of a row depends on
// (seed, epoch, step, view, layer, node id) only, so any number of ranks draws the same.

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/types.h>

#include "comm/process_group.h"
#include "models/block_gnn.h"
#include "sampler/neighbor_sampler.h"

namespace kgrec {

// The node (global id) of every output row of layer l.
using LayerNodes = std::function<const std::vector<std::int64_t>&(std::int64_t layer)>;

// The hook that perturbs view `view` (0 or 1) of step (epoch, step) by noise of norm `eps`.
LayerHook simgclPerturbation(LayerNodes nodes, double eps, std::uint64_t seed, std::int64_t epoch,
                             std::int64_t step, int view);

// Rows [nodes.size(), dim]: each node's uniform [0, 1) noise from its own stream.
torch::Tensor seededUniformRows(const std::vector<std::int64_t>& nodes, std::int64_t dim,
                                std::uint64_t stream);

// InfoNCE (cosine over `temperature`) between the views' rows of this rank's seeds: each
// user's view-1 row against view-2 rows of the global batch's users, and likewise for the
// positive items, summed over this rank's seeds. `view1`, `view2` are output rows indexed by
// the batch's user_rows and positive_rows. Collective, and so is its backward.
torch::Tensor simgclLoss(ProcessGroup& group, const MiniBatch& batch, const torch::Tensor& view1,
                         const torch::Tensor& view2, double temperature);

}  // namespace kgrec
