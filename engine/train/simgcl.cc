#include "engine/train/simgcl.h"

#include <ATen/Parallel.h>
#include <torch/nn/functional/normalization.h>

#include "engine/common/random.h"
#include "engine/train/losses.h"

namespace kgrec {

torch::Tensor seededUniformRows(const std::vector<std::int64_t>& nodes, std::int64_t dim,
                                std::uint64_t stream) {
  const auto n = static_cast<std::int64_t>(nodes.size());
  torch::Tensor x = torch::empty({n, dim}, torch::kFloat32);
  float* data = x.data_ptr<float>();
  at::parallel_for(0, n, 256, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) {
      SplitMix64 rng(mixSeed(stream, static_cast<std::uint64_t>(nodes[r])));
      for (std::int64_t j = 0; j < dim; ++j) data[r * dim + j] = static_cast<float>(rng.uniform());
    }
  });
  return x;
}

LayerHook simgclPerturbation(LayerNodes nodes, double eps, std::uint64_t seed, std::int64_t epoch,
                             std::int64_t step, int view) {
  const std::uint64_t stream =
      mixSeed(mixSeed(seed, static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(step)),
              0x51c, static_cast<std::uint64_t>(view));
  return [nodes = std::move(nodes), eps, stream](std::int64_t layer, const torch::Tensor& h) {
    namespace F = torch::nn::functional;
    const std::vector<std::int64_t>& ids = nodes(layer);
    const torch::Tensor noise =
        seededUniformRows(ids, h.size(1), mixSeed(stream, static_cast<std::uint64_t>(layer)))
            .to(h.device());
    return h + torch::sign(h.detach()) *
                   F::normalize(noise, F::NormalizeFuncOptions().p(2).dim(1)).mul_(eps);
  };
}

torch::Tensor simgclLoss(ProcessGroup& group, const MiniBatch& batch, const torch::Tensor& view1,
                         const torch::Tensor& view2, double temperature) {
  const torch::Tensor u = rowIndex(batch.user_rows, view1.device());
  const torch::Tensor p = rowIndex(batch.positive_rows, view1.device());
  return inBatchInfoNce(group, view1.index_select(0, u), view2.index_select(0, u), batch.users,
                        torch::Tensor(), temperature, /*cosine=*/true) +
         inBatchInfoNce(group, view1.index_select(0, p), view2.index_select(0, p),
                        batch.positives, torch::Tensor(), temperature, /*cosine=*/true);
}

}  // namespace kgrec
