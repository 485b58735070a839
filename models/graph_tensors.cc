#include "models/graph_tensors.h"

#include <limits>

#include <ATen/Parallel.h>

#include "engine/common/error.h"

namespace kgrec {

CsrTensors CsrTensors::from(const WeightedCsr& csr, torch::Device device) {
  auto copy = [&](const auto& vec, torch::ScalarType type) {
    return torch::from_blob(const_cast<void*>(static_cast<const void*>(vec.data())),
                            {static_cast<std::int64_t>(vec.size())}, torch::dtype(type))
        .to(device, /*non_blocking=*/false, /*copy=*/true);
  };
  CsrTensors t;
  t.indptr = copy(csr.indptr, torch::kInt64);
  t.indices = copy(csr.indices, torch::kInt32);
  t.values = copy(csr.values, torch::kFloat32);
  t.num_rows = csr.num_rows;
  t.num_cols = csr.num_rows;
  return t;
}

namespace {

// How many entries ahead the source row is prefetched. The rows are gathered at random, so
// without it every entry waits on memory: on gowalla (dim 64) a product took 43-53 ms on one
// core, with it 17-27 ms (distance 8: 21-31, 16: 18-27, 24: 17-28, 32: 25-38).
constexpr std::int64_t kPrefetchDistance = 16;

// One row range of y = A x. Compiled twice (AVX2+FMA and baseline) and picked at load
// time, so that a portable binary still gets wide vectors where the CPU has them.
__attribute__((target_clones("arch=haswell", "default"))) void spmmRows(
    const std::int64_t* indptr, const std::int32_t* indices, const float* values,
    std::int64_t nnz, const float* x, float* y, std::int64_t dim, std::int64_t begin,
    std::int64_t end) {
  const std::int64_t row_bytes = dim * static_cast<std::int64_t>(sizeof(float));
  for (std::int64_t r = begin; r < end; ++r) {
    float* out = y + r * dim;
    for (std::int64_t d = 0; d < dim; ++d) out[d] = 0.0f;
    for (std::int64_t e = indptr[r]; e < indptr[r + 1]; ++e) {
      if (e + kPrefetchDistance < nnz) {
        const auto* ahead = reinterpret_cast<const char*>(
            x + static_cast<std::int64_t>(indices[e + kPrefetchDistance]) * dim);
        for (std::int64_t line = 0; line < row_bytes; line += 64) __builtin_prefetch(ahead + line);
      }
      const float w = values[e];
      const float* in = x + static_cast<std::int64_t>(indices[e]) * dim;
      for (std::int64_t d = 0; d < dim; ++d) out[d] += w * in[d];
    }
  }
}

// y = A x over LibTorch's intra-op threads.
void spmmCpu(const CsrTensors& a, const torch::Tensor& x, torch::Tensor& y) {
  const std::int64_t dim = x.size(1);
  const auto* indptr = a.indptr.data_ptr<std::int64_t>();
  const auto* indices = a.indices.data_ptr<std::int32_t>();
  const auto* values = a.values.data_ptr<float>();
  const float* xp = x.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  // Grain: enough rows that a chunk amortises the task hand-off (~16k stored entries).
  const std::int64_t avg_degree =
      std::max<std::int64_t>(1, a.values.numel() / std::max<std::int64_t>(1, a.num_rows));
  const std::int64_t grain = std::max<std::int64_t>(64, 16384 / avg_degree);
  at::parallel_for(0, a.num_rows, grain, [&](std::int64_t begin, std::int64_t end) {
    spmmRows(indptr, indices, values, a.values.numel(), xp, yp, dim, begin, end);
  });
}

void checkOperand(const CsrTensors& a, const torch::Tensor& x) {
  KGREC_CHECK(x.dim() == 2 && x.size(0) == a.num_cols, "spmm: x is {} but A has {} columns",
              c10::str(x.sizes()), a.num_cols);
  KGREC_CHECK(x.scalar_type() == torch::kFloat32, "spmm: x must be float32");
}

}  // namespace

torch::Tensor spmm(const CsrTensors& a, const torch::Tensor& x_in) {
  checkOperand(a, x_in);
  torch::Tensor x = x_in.contiguous();
  if (x.is_cuda()) {
    // A CSR tensor's two index arrays share one dtype. cuSPARSE takes 32-bit ones (LibTorch's
    // CUDA CSR addmm uses them as they are), so the row pointers (rows + 1 values) are narrowed
    // rather than the column indices (every edge) widened; past 2^31 edges both stay 64-bit.
    const bool narrow = a.indices.scalar_type() == torch::kInt32 &&
                        a.indices.numel() < std::numeric_limits<std::int32_t>::max();
    torch::Tensor sparse = torch::sparse_csr_tensor(
        narrow ? a.indptr.to(torch::kInt32) : a.indptr,
        narrow ? a.indices : a.indices.to(torch::kInt64), a.values, {a.num_rows, a.num_cols},
        x.options());
    return torch::mm(sparse, x);
  }
  torch::Tensor y = torch::empty({a.num_rows, x.size(1)}, x.options());
  spmmCpu(a, x, y);
  return y;
}

torch::Tensor int64Tensor(const std::vector<std::int64_t>& values) {
  return torch::tensor(values, torch::kInt64);
}

}  // namespace kgrec
