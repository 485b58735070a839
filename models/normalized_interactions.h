#pragma once
// The symmetrically normalised interaction matrix R~ = D_u^-1/2 R D_i^-1/2 of a training split
// (R binary, users x items), the matrix the graph filters low-pass and whose top singular
// vectors the spectral initialisation of the ID embeddings takes. Both R~ and R~^T are kept
// as CSR tensors, so that products with either are one row-parallel spmm.

#include <cstdint>
#include <vector>

#include "engine/graph/dataset.h"
#include "models/graph_tensors.h"
#include "models/randomized_svd.h"

namespace kgrec {

struct NormalizedInteractions {
  CsrTensors user_items;                  // R~ [users, items]
  CsrTensors item_users;                  // R~^T [items, users]
  std::vector<std::int64_t> item_degree;  // training interactions of each item
};

// R~ from each user's training items (userItemCsr of the training split). KGREC_CHECK fails
// for an item outside [0, num_items).
NormalizedInteractions normalizedInteractions(const Csr& user_items, std::int64_t num_items);

// 1 / sqrt(d), and 0 for d = 0 (a node without interactions).
float inverseSqrtDegree(std::int64_t d);

// R~ (`user_items`) with its transpose (`item_users`) as an operator for randomizedSvd; both
// must outlive it.
LinearOperator asOperator(const CsrTensors& user_items, const CsrTensors& item_users);

}  // namespace kgrec
