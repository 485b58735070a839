#include "models/graph_tensors.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

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
  return t;
}

namespace {

// One row range of y = A x. Compiled twice (AVX2+FMA and baseline) and picked at load time,
// so that a portable binary still gets wide vectors where the CPU has them.
__attribute__((target_clones("arch=haswell", "default"))) void spmmRows(
    const std::int64_t* indptr, const std::int32_t* indices, const float* values,
    const float* x, float* y, std::int64_t dim, std::int64_t begin, std::int64_t end) {
  for (std::int64_t r = begin; r < end; ++r) {
    float* out = y + r * dim;
    for (std::int64_t d = 0; d < dim; ++d) out[d] = 0.0f;
    for (std::int64_t e = indptr[r]; e < indptr[r + 1]; ++e) {
      const float w = values[e];
      const float* in = x + static_cast<std::int64_t>(indices[e]) * dim;
      for (std::int64_t d = 0; d < dim; ++d) out[d] += w * in[d];
    }
  }
}

torch::Tensor spmmCpu(const CsrTensors& a, const torch::Tensor& x_in) {
  torch::Tensor x = x_in.contiguous();
  const std::int64_t dim = x.size(1);
  torch::Tensor y = torch::empty({a.num_rows, dim}, x.options());
  const auto* indptr = a.indptr.data_ptr<std::int64_t>();
  const auto* indices = a.indices.data_ptr<std::int32_t>();
  const auto* values = a.values.data_ptr<float>();
  const float* xp = x.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  // Grain: enough rows that a chunk amortises the task hand-off (~16k stored entries).
  const std::int64_t avg_degree = std::max<std::int64_t>(1, a.values.numel() / std::max<std::int64_t>(1, a.num_rows));
  const std::int64_t grain = std::max<std::int64_t>(64, 16384 / avg_degree);
  at::parallel_for(0, a.num_rows, grain, [&](std::int64_t begin, std::int64_t end) {
    spmmRows(indptr, indices, values, xp, yp, dim, begin, end);
  });
  return y;
}

class SymmetricSpmmFunction : public torch::autograd::Function<SymmetricSpmmFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x,
                               torch::Tensor indptr, torch::Tensor indices, torch::Tensor values) {
    ctx->save_for_backward({indptr, indices, values});
    return spmm(CsrTensors{indptr, indices, values, indptr.numel() - 1}, x);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    auto saved = ctx->get_saved_variables();
    torch::Tensor gx = spmm(CsrTensors{saved[0], saved[1], saved[2], saved[0].numel() - 1}, grads[0]);
    return {gx, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor spmm(const CsrTensors& a, const torch::Tensor& x) {
  KGREC_CHECK(x.dim() == 2 && x.size(0) == a.num_rows, "spmm: x is {} but A has {} rows",
              c10::str(x.sizes()), a.num_rows);
  KGREC_CHECK(x.scalar_type() == torch::kFloat32, "spmm: x must be float32");
  if (x.is_cuda()) {
    torch::Tensor sparse = torch::sparse_csr_tensor(a.indptr, a.indices.to(torch::kInt64), a.values,
                                                    {a.num_rows, a.num_rows}, x.options());
    return torch::mm(sparse, x);
  }
  return spmmCpu(a, x);
}

torch::Tensor symmetricSpmm(const CsrTensors& a, const torch::Tensor& x) {
  return SymmetricSpmmFunction::apply(x, a.indptr, a.indices, a.values);
}

}  // namespace kgrec
