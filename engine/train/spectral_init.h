#pragma once
// Spectral initialisation of the ID embeddings (--init svd, docs/objectives.md): the users' and
// items' starting rows are the top `dim` singular triplets of the normalised interaction
// matrix R~ = D_u^-1/2 R D_i^-1/2 (models/normalized_interactions.h) from a randomized SVD,
//   user u: U[u] sqrt(S),   item i: V[i] sqrt(S)   (so that u . i ~ R~'s rank-dim part),
// scaled so that their root mean square is the normal initialisation's standard deviation.
// Entities keep their normal rows. Every rank computes the same SVD from the whole training
// split (the same seed), so the rows do not depend on the rank count.

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "engine/graph/dataset.h"

namespace kgrec {

struct SpectralRows {
  torch::Tensor users;  // [num_users, dim]
  torch::Tensor items;  // [num_items, dim]; columns past min(users, items) are zero
};

// The rows of every user and item from the training interactions `train` (local user and
// item indices) of a graph with `nodes`.
SpectralRows spectralRows(const std::vector<Interaction>& train, const NodeSpace& nodes,
                          std::int64_t dim, double init_std, std::uint64_t seed);

// Overwrites the rows of `table` [owned, dim] whose nodes (`global_ids`, one per row) are
// users or items with their spectral rows (computed on the host; `table` may be on any device).
void applySpectralRows(const SpectralRows& rows, const NodeSpace& nodes,
                       const std::vector<std::int64_t>& global_ids, torch::Tensor& table);

}  // namespace kgrec
