#pragma once
// Truncated SVD of a large sparse matrix by randomized range finding (Halko, Martinsson and
// Tropp 2011, algorithms 4.4 and 5.1): the matrix is touched only through products with thin
// dense blocks, so the cost is O(nnz * (rank + oversampling)) per product instead of the
// O(rows * cols * min(rows, cols)) of a dense SVD.

#include <cstdint>
#include <functional>

#include <torch/types.h>

namespace kgrec {

// A [rows, cols] matrix A seen only through A x and A^T y, for dense float blocks x
// [cols, b] and y [rows, b].
struct LinearOperator {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::function<torch::Tensor(const torch::Tensor&)> multiply;             // A x
  std::function<torch::Tensor(const torch::Tensor&)> multiply_transposed;  // A^T y
};

struct RandomizedSvdOptions {
  std::int64_t rank = 64;          // singular triplets kept
  std::int64_t oversampling = 16;  // extra random directions, discarded at the end
  // Subspace iterations (A A^T)^q: each sharpens the gap between kept and dropped values.
  std::int64_t power_iterations = 3;
  std::uint64_t seed = 2020;
};

struct TruncatedSvd {
  torch::Tensor singular_values;  // [rank], descending
  torch::Tensor right_vectors;    // V [cols, rank], orthonormal columns
};

// The top `rank` singular values and right singular vectors of `a`. ConfigError when rank is
// not in [1, min(rows, cols)].
TruncatedSvd randomizedSvd(const LinearOperator& a, const RandomizedSvdOptions& options);

}  // namespace kgrec
