#include "models/randomized_svd.h"

#include <algorithm>
#include <tuple>

#include <ATen/CPUGeneratorImpl.h>

#include "engine/common/error.h"

namespace kgrec {
namespace {

// An orthonormal basis of x's columns.
torch::Tensor orthonormalColumns(const torch::Tensor& x) {
  return std::get<0>(torch::linalg_qr(x, "reduced"));
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
  // left singular vectors of B^T = A^T Q.
  const auto [u, s, vh] = torch::linalg_svd(a.multiply_transposed(q), /*full_matrices=*/false);
  TruncatedSvd result;
  result.singular_values = s.narrow(0, 0, options.rank).contiguous();
  result.right_vectors = u.narrow(1, 0, options.rank).contiguous();
  return result;
}

}  // namespace kgrec
