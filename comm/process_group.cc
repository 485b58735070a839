#include "comm/process_group.h"

#include "engine/common/error.h"

namespace kgrec {

const char* toString(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return "sum";
    case ReduceOp::kAvg: return "avg";
  }
  return "?";
}

RankRows Work::result() {
  wait();
  KGREC_CHECK(result_.tensor.defined(), "this operation has no output tensor (it works in place)");
  return result_;
}

std::int64_t rowElements(const torch::Tensor& tensor) {
  std::int64_t n = 1;
  for (std::int64_t d = 1; d < tensor.dim(); ++d) n *= tensor.size(d);
  return n;
}

ProcessGroup::ProcessGroup(int rank, int size) : rank_(rank), size_(size) {
  KGREC_CHECK(size > 0 && rank >= 0 && rank < size, "rank {} of a group of {}", rank, size);
}

WorkPtr ProcessGroup::allReduce(const torch::Tensor& tensor, ReduceOp op) {
  KGREC_CHECK(tensor.defined(), "allReduce of an undefined tensor");
  const auto type = tensor.scalar_type();
  const bool floating = type == torch::kFloat || type == torch::kHalf ||
                        type == torch::kBFloat16 || type == torch::kDouble;
  const bool integral = type == torch::kInt || type == torch::kLong;
  KGREC_CHECK(floating || (integral && op == ReduceOp::kSum),
              "allReduce({}) does not support dtype {}", toString(op), c10::toString(type));
  return runAllReduce(tensor.detach(), op);
}

WorkPtr ProcessGroup::broadcast(const torch::Tensor& tensor, int root) {
  KGREC_CHECK(tensor.defined(), "broadcast of an undefined tensor");
  KGREC_CHECK(root >= 0 && root < size_, "broadcast root {} is not a rank of a group of {}", root,
              size_);
  return runBroadcast(tensor.detach(), root);
}

WorkPtr ProcessGroup::barrier() { return runBarrier(); }

WorkPtr ProcessGroup::allGather(const torch::Tensor& tensor) {
  KGREC_CHECK(tensor.defined(), "allGather of an undefined tensor");
  return runAllGather(tensor.detach());
}

WorkPtr ProcessGroup::allGatherV(const torch::Tensor& tensor) {
  KGREC_CHECK(tensor.defined() && tensor.dim() >= 1,
              "allGatherV needs a tensor of rows ([n, ...]), got {} dimensions", tensor.dim());
  return runAllGatherV(tensor.detach());
}

WorkPtr ProcessGroup::allToAllV(const torch::Tensor& tensor, std::vector<std::int64_t> send_counts) {
  KGREC_CHECK(tensor.defined() && tensor.dim() >= 1,
              "allToAllV needs a tensor of rows ([n, ...]), got {} dimensions", tensor.dim());
  KGREC_CHECK(static_cast<int>(send_counts.size()) == size_,
              "allToAllV: {} send counts for a group of {}", send_counts.size(), size_);
  std::int64_t total = 0;
  for (std::int64_t c : send_counts) {
    KGREC_CHECK(c >= 0, "allToAllV: negative send count {}", c);
    total += c;
  }
  KGREC_CHECK(total == tensor.size(0), "allToAllV: send counts add up to {} but the tensor has {} rows",
              total, tensor.size(0));
  return runAllToAllV(tensor.detach(), std::move(send_counts));
}

}  // namespace kgrec
