#pragma once
// The symmetrically normalised adjacency D^-1/2 A D^-1/2 that LightGCN-style propagation
// multiplies with. Plain arrays here; models/ wraps them as tensors.

#include <cstdint>
#include <vector>

#include "engine/graph/dataset.h"

namespace kgrec {

// Square CSR matrix with one float value per stored entry.
struct WeightedCsr {
  std::int64_t num_rows = 0;
  std::vector<std::int64_t> indptr;   // num_rows + 1
  std::vector<std::int32_t> indices;  // nnz, sorted within each row
  std::vector<float> values;          // nnz
  std::int64_t nnz() const { return static_cast<std::int64_t>(indices.size()); }
};

// The user-item interaction graph (relations kRelInteract and its reverse) over the first
// num_users + num_items global ids, with entry (v, u) = 1 / sqrt(deg(u) * deg(v)) as in the
// LightGCN paper. The matrix is symmetric, which the backward pass of propagation relies on.
WeightedCsr normalizedInteractionGraph(const Dataset& dataset);

}  // namespace kgrec
