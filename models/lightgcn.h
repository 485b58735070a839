#pragma once
// LightGCN (He et al., SIGIR 2020): learnable ID embeddings propagated over the normalised
// user-item graph with no weights and no non-linearity; the final embedding of a node is
// the mean of its embeddings at layers 0..L.

#include <torch/nn/module.h>

#include "models/graph_tensors.h"

namespace kgrec {

struct LightGcnOptions {
  std::int64_t num_users = 0;
  std::int64_t num_items = 0;
  std::int64_t dim = 64;
  std::int64_t layers = 3;
  double init_std = 0.1;  // N(0, 0.1^2) as in the reference code
};

// Embeddings of one forward pass: users [num_users, dim], items [num_items, dim].
struct UserItemEmbeddings {
  torch::Tensor users, items;
};

class LightGcnImpl : public torch::nn::Module {
 public:
  LightGcnImpl(const LightGcnOptions& options, CsrTensors graph);

  // Final (layer-mean) embeddings of all users and items.
  UserItemEmbeddings propagate() const;
  // The same as one [num_users + num_items, dim] tensor, users first.
  torch::Tensor propagateAll() const;

  // BPR loss of a batch of (user, positive, negative) local indices (int64 tensors), plus
  // `l2` times the reference code's regulariser: half the squared norm of the batch's
  // layer-0 embeddings, divided by the batch size.
  torch::Tensor bprLoss(const torch::Tensor& users, const torch::Tensor& positives,
                        const torch::Tensor& negatives, double l2) const;

  const LightGcnOptions& options() const { return options_; }
  torch::Tensor embedding() const { return embedding_; }

 private:
  LightGcnOptions options_;
  CsrTensors graph_;
  torch::Tensor embedding_;  // [num_users + num_items, dim]: users first, then items
};
TORCH_MODULE(LightGcn);

}  // namespace kgrec
