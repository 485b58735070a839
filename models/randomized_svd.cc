#include "models/randomized_svd.h"

#include <algorithm>

#include <ATen/CPUGeneratorImpl.h>

#include "engine/common/error.h"

namespace kgrec {
namespace {

// An orthonormal basis of x's columns [n, l] by shifted Cholesky-QR, twice (CholeskyQR2):
// Q = X R^-1 with R^T R = X^T X. The tall matrix is touched only by matrix products (one BLAS
// call each); LAPACK sees l x l matrices only. (LAPACK's blocked QR of the tall matrix is
// hundreds of small threaded calls, which on a loaded machine took 100x longer.) The shift
// keeps the factorisation defined when X's columns are dependent; the second pass restores
// orthogonality to rounding.
torch::Tensor orthonormalColumns(const torch::Tensor& x) {
  torch::Tensor q = x.to(torch::kFloat64);
  for (int pass = 0; pass < 2; ++pass) {
    torch::Tensor gram = q.t().mm(q);
    const double shift = 1e-12 * gram.diagonal().sum().item<double>() + 1e-300;
    gram.diagonal().add_(shift);
    const torch::Tensor lower = torch::linalg_cholesky(gram);
    q = q.mm(torch::linalg_inv(lower.t()));
  }
  return q.to(x.scalar_type());
}

}  // namespace

TruncatedSvd randomizedSvd(const LinearOperator& a, const RandomizedSvdOptions& options) {
  const std::int64_t smaller = std::min(a.rows, a.cols);
  if (options.rank < 1 || options.rank > smaller) {
    throw ConfigError(fmt::format("randomized SVD: rank {} is not in [1, {}] for a {} x {} matrix; "
                                  "ask for a smaller rank", options.rank, smaller, a.rows, a.cols));
  }
  KGREC_CHECK(options.oversampling >= 0 && options.power_iterations >= 0,
              "randomized SVD: oversampling and power iterations must be >= 0");
  const std::int64_t width = std::min(options.rank + options.oversampling, smaller);
  torch::NoGradGuard no_grad;
  const at::Generator generator = at::detail::createCPUGenerator(options.seed);
  const torch::Tensor omega = at::randn({a.cols, width}, generator, torch::kFloat32);
  // Q spans (A A^T)^q A omega, re-orthonormalised after every product so that the small
  // singular directions are not lost to rounding.
  torch::Tensor q = orthonormalColumns(a.multiply(omega));
  for (std::int64_t i = 0; i < options.power_iterations; ++i) {
    q = orthonormalColumns(a.multiply(orthonormalColumns(a.multiply_transposed(q))));
  }
  // B = Q^T A is small ([width, cols]); A ~ Q B, so A's right singular vectors are B's, the
  // left singular vectors of B^T = A^T Q: from the eigenpairs of the [width, width] Gram
  // matrix B B^T = Z diag(s^2) Z^T, as U = B^T Z diag(1/s) (products only, as above).
  const torch::Tensor bt = a.multiply_transposed(q).to(torch::kFloat64);
  const auto [eigenvalues, eigenvectors] = torch::linalg_eigh(bt.t().mm(bt));  // ascending
  const torch::Tensor top = torch::arange(width - 1, width - 1 - options.rank, -1, torch::kInt64);
  const torch::Tensor s = eigenvalues.index_select(0, top).clamp_min(0.0).sqrt();
  const torch::Tensor z = eigenvectors.index_select(1, top);
  TruncatedSvd result;
  result.singular_values = s.to(torch::kFloat32).contiguous();
  result.right_vectors =
      bt.mm(z).div_(s.clamp_min(1e-300).unsqueeze(0)).to(torch::kFloat32).contiguous();
  return result;
}

}  // namespace kgrec
