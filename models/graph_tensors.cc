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
  t.num_cols = csr.num_rows;
  return t;
}

namespace {

// One row range of y = A x, and, when `sum` is given, sum = (sum + y) * scale in the same
// pass while the row is in cache. Compiled twice (AVX2+FMA and baseline) and picked at load
// time, so that a portable binary still gets wide vectors where the CPU has them.
__attribute__((target_clones("arch=haswell", "default"))) void spmmRows(
    const std::int64_t* indptr, const std::int32_t* indices, const float* values,
    const float* x, float* y, float* sum, float scale, std::int64_t dim, std::int64_t begin,
    std::int64_t end) {
  for (std::int64_t r = begin; r < end; ++r) {
    float* out = y + r * dim;
    for (std::int64_t d = 0; d < dim; ++d) out[d] = 0.0f;
    for (std::int64_t e = indptr[r]; e < indptr[r + 1]; ++e) {
      const float w = values[e];
      const float* in = x + static_cast<std::int64_t>(indices[e]) * dim;
      for (std::int64_t d = 0; d < dim; ++d) out[d] += w * in[d];
    }
    if (sum) {
      float* acc = sum + r * dim;
      for (std::int64_t d = 0; d < dim; ++d) acc[d] = (acc[d] + out[d]) * scale;
    }
  }
}

// y = A x (and the optional fused accumulation above) over LibTorch's intra-op threads.
void spmmCpu(const CsrTensors& a, const torch::Tensor& x, torch::Tensor& y, float* sum,
             float scale) {
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
    spmmRows(indptr, indices, values, xp, yp, sum, scale, dim, begin, end);
  });
}

void checkOperand(const CsrTensors& a, const torch::Tensor& x) {
  KGREC_CHECK(x.dim() == 2 && x.size(0) == a.num_cols, "spmm: x is {} but A has {} columns",
              c10::str(x.sizes()), a.num_cols);
  KGREC_CHECK(x.scalar_type() == torch::kFloat32, "spmm: x must be float32");
}

// mean(x, A x, ..., A^L x) without autograd.
torch::Tensor layerMean(const CsrTensors& a, const torch::Tensor& x_in, std::int64_t layers) {
  checkOperand(a, x_in);
  KGREC_CHECK(a.num_rows == a.num_cols, "layer mean of a {} x {} matrix: it must be square",
              a.num_rows, a.num_cols);
  torch::Tensor x = x_in.contiguous();
  if (x.is_cuda()) {
    torch::Tensor sum = x.clone(), layer = x;
    for (std::int64_t l = 0; l < layers; ++l) {
      layer = spmm(a, layer);
      sum += layer;
    }
    return sum / static_cast<double>(layers + 1);
  }
  torch::Tensor sum = x.clone();
  // Layer l reads layer l - 1: two buffers, used in turn.
  torch::Tensor buffers[2] = {torch::empty_like(x), layers > 1 ? torch::empty_like(x) : torch::Tensor()};
  const torch::Tensor* input = &x;
  for (std::int64_t l = 0; l < layers; ++l) {
    // The last pass also divides by L + 1.
    const float scale = l + 1 == layers ? 1.0f / static_cast<float>(layers + 1) : 1.0f;
    torch::Tensor& output = buffers[l % 2];
    spmmCpu(a, *input, output, sum.data_ptr<float>(), scale);
    input = &output;
  }
  return sum;
}

class SymmetricLayerMeanFunction : public torch::autograd::Function<SymmetricLayerMeanFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x,
                               torch::Tensor indptr, torch::Tensor indices, torch::Tensor values,
                               std::int64_t layers) {
    ctx->save_for_backward({indptr, indices, values});
    ctx->saved_data["layers"] = layers;
    return layerMean(CsrTensors{indptr, indices, values, indptr.numel() - 1, indptr.numel() - 1}, x, layers);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    auto saved = ctx->get_saved_variables();
    torch::Tensor gx = layerMean(CsrTensors{saved[0], saved[1], saved[2], saved[0].numel() - 1,
                                            saved[0].numel() - 1},
                                 grads[0], ctx->saved_data["layers"].toInt());
    return {gx, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor spmm(const CsrTensors& a, const torch::Tensor& x_in) {
  checkOperand(a, x_in);
  torch::Tensor x = x_in.contiguous();
  if (x.is_cuda()) {
    torch::Tensor sparse = torch::sparse_csr_tensor(a.indptr, a.indices.to(torch::kInt64), a.values,
                                                    {a.num_rows, a.num_cols}, x.options());
    return torch::mm(sparse, x);
  }
  torch::Tensor y = torch::empty({a.num_rows, x.size(1)}, x.options());
  spmmCpu(a, x, y, nullptr, 1.0f);
  return y;
}

torch::Tensor symmetricLayerMean(const CsrTensors& a, const torch::Tensor& x, std::int64_t layers) {
  return SymmetricLayerMeanFunction::apply(x, a.indptr, a.indices, a.values, layers);
}

}  // namespace kgrec
