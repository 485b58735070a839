#pragma once
// The training losses, the same for sampled and full-graph propagation and for any number of
// ranks: each rank's loss is its share of the global step's, so that the ranks' gradients add
// up to the gradient of the global batch's mean loss.

#include <cstdint>

#include <torch/types.h>

#include "models/block_gnn.h"
#include "sampler/kg_triple_sampler.h"
#include "sampler/neighbor_sampler.h"

namespace kgrec {

struct LossValue {
  torch::Tensor loss;  // to differentiate
  double sum = 0;      // the loss summed over this rank's examples, without regularisation
};

// BPR with `negatives` negatives per seed: softplus(s(u, n) - s(u, p)) averaged over a seed's
// negatives, plus l2 times half the squared norm of the seeds' layer-0 rows (the negatives'
// divided by their count), all summed over this rank's seeds and divided by the global batch
// size. `out` and `h0` hold the output and layer-0 rows of the batch's first nodes, which
// the seeds' rows (batch.user_rows, ...) index.
LossValue bprLoss(const MiniBatch& batch, const torch::Tensor& out, const torch::Tensor& h0,
                  std::int64_t negatives, double l2, std::int64_t global_batch_size);

// kgat's TransR loss: softplus(d(h, r, t) - d(h', r, t)) summed over this rank's triples, plus
// l2 times half the squared norm of their layer-0 rows `rows` [3n, dim] (heads, tails,
// corrupted heads: triples.nodes()), divided by `norm` (the expected triples per step over
// all ranks).
LossValue transrLoss(const BlockGnn& model, const KgTriples& triples, const torch::Tensor& rows,
                     double l2, double norm);

}  // namespace kgrec
