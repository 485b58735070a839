#include "engine/train/global_batch_rows.h"

#include <numeric>

#include <torch/autograd.h>

namespace kgrec {
namespace {

class AllGatherRows : public torch::autograd::Function<AllGatherRows> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor rows,
                               ProcessGroup* group) {
    const RankRows gathered = group->allGatherV(rows.contiguous())->result();
    const auto rank = static_cast<std::size_t>(group->rank());
    const std::int64_t offset = std::accumulate(gathered.counts.begin(),
                                                gathered.counts.begin() + rank, std::int64_t{0});
    ctx->saved_data["group"] = reinterpret_cast<std::int64_t>(group);
    ctx->saved_data["offset"] = offset;
    ctx->saved_data["count"] = rows.size(0);
    return gathered.tensor;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* group = reinterpret_cast<ProcessGroup*>(ctx->saved_data["group"].toInt());
    torch::Tensor summed = grads[0].contiguous().clone();
    group->allReduce(summed)->wait();
    return {summed.narrow(0, ctx->saved_data["offset"].toInt(), ctx->saved_data["count"].toInt()),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor allGatherRows(ProcessGroup& group, const torch::Tensor& rows) {
  torch::Tensor own = rows;
  // A share that carries no gradient (an empty one) must still run the backward's all-reduce.
  if (torch::GradMode::is_enabled() && !own.requires_grad()) own = own.detach().requires_grad_();
  return AllGatherRows::apply(own, &group);
}

torch::Tensor allGatherIds(ProcessGroup& group, const std::vector<std::int64_t>& ids) {
  return group.allGatherV(torch::tensor(ids, torch::kInt64).view({-1}))->result().tensor;
}

}  // namespace kgrec
