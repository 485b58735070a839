#pragma once
// Graph structures as tensors, at the boundary between the plain-C++ graph modules and
// LibTorch, plus the sparse-dense product over them.

#include <vector>

#include <torch/types.h>

#include "engine/graph/normalized_adjacency.h"

namespace kgrec {

// A WeightedCsr copied into tensors (indptr int64, indices int32, values float32), on `device`.
struct CsrTensors {
  torch::Tensor indptr, indices, values;
  std::int64_t num_rows = 0;
  std::int64_t num_cols = 0;
  static CsrTensors from(const WeightedCsr& csr, torch::Device device);
};

// y = A x for a CSR matrix A and a dense [num_cols, d] x, with no autograd. On CPU a
// row-parallel kernel (LibTorch's intra-op threads; no per-edge tensor ops); on CUDA
// LibTorch's sparse CSR product.
torch::Tensor spmm(const CsrTensors& a, const torch::Tensor& x);

// A list of ids or row positions as a 1-d int64 CPU tensor.
torch::Tensor int64Tensor(const std::vector<std::int64_t>& values);

}  // namespace kgrec
