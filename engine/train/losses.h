#pragma once
// The training losses, the same for sampled and full-graph propagation and for any number of
// ranks: each rank's loss is its share of the global step's, so that the ranks' gradients add
// up to the gradient of the global batch's mean loss.

#include <cstdint>

#include <torch/types.h>

#include "comm/process_group.h"
#include "engine/train/train_options.h"
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
// A batch's row positions (user_rows, positive_rows, negative_rows) as an index on `device`.
torch::Tensor rowIndex(const std::vector<std::int32_t>& rows, torch::Device device);

LossValue bprLoss(const MiniBatch& batch, const torch::Tensor& out, const torch::Tensor& h0,
                  std::int64_t negatives, double l2, std::int64_t global_batch_size);

// The loss `objective.loss` names (bpr, softmax or ccl; docs/objectives.md) on the batch, with
// the same l2 term as bprLoss and the same division by the global batch size. Collective for
// softmax (and so is its backward): its logits take the global batch's positives from every
// rank of `group`.
LossValue objectiveLoss(const MiniBatch& batch, const torch::Tensor& out, const torch::Tensor& h0,
                        const ObjectiveOptions& objective, std::int64_t negatives, double l2,
                        std::int64_t global_batch_size, ProcessGroup& group);

// Sampled softmax / InfoNCE: per seed, -log of the softmax of s(u, p) / temperature among
// s(u, c) / temperature for c = p, the global batch's positives other than p's item (by id)
// and the seed's sampled negatives; s is the dot product or the cosine.
LossValue softmaxLoss(const MiniBatch& batch, const torch::Tensor& out, const torch::Tensor& h0,
                      std::int64_t negatives, double l2, std::int64_t global_batch_size,
                      const ObjectiveOptions& objective, ProcessGroup& group);

// SimpleX's cosine contrastive loss: per seed, (1 - cos(u, p)) + negative_weight * the mean
// over its negatives of max(0, cos(u, n) - margin).
LossValue cclLoss(const MiniBatch& batch, const torch::Tensor& out, const torch::Tensor& h0,
                  std::int64_t negatives, double l2, std::int64_t global_batch_size,
                  const ObjectiveOptions& objective);

// InfoNCE summed over this rank's anchors [n, dim]: anchor a_i against its own row b_i
// [n, dim] among every rank's rows b (allGatherRows) whose id differs from ids[i] (b_i's own
// id), and `extra` [n, k, dim] negatives per anchor when defined; logits are similarities
// (cosine when `cosine`, else dot) over `temperature`. Collective, and so is its backward.
torch::Tensor inBatchInfoNce(ProcessGroup& group, const torch::Tensor& anchors,
                             const torch::Tensor& own, const std::vector<std::int64_t>& ids,
                             const torch::Tensor& extra, double temperature, bool cosine);

// kgat's TransR loss: softplus(d(h, r, t) - d(h', r, t)) summed over this rank's triples, plus
// l2 times half the squared norm of their layer-0 rows `rows` [3n, dim] (heads, tails,
// corrupted heads: triples.nodes()), divided by `norm` (the expected triples per step over
// all ranks).
LossValue transrLoss(const BlockGnn& model, const KgTriples& triples, const torch::Tensor& rows,
                     double l2, double norm);

}  // namespace kgrec
