#pragma once
// One group of ranks over two backends, chosen per tensor: CUDA tensors go over the device
// group (NCCL), host tensors over the host group (MPI). A GPU trainer moves both kinds: the
// model's rows and gradients on the GPU, and the host's bookkeeping (row requests, counts,
// graph statistics, metric sums) on the CPU; NCCL takes only the former.
//
// Every rank calls the same operations in the same order, with a tensor on the same kind of
// device on every rank, so each backend sees its share of them in one order on every rank too.

#include <memory>
#include <string>

#include "comm/process_group.h"

namespace kgrec {

class HostDeviceProcessGroup final : public ProcessGroup {
 public:
  // Both groups hold the same ranks in the same order.
  HostDeviceProcessGroup(std::shared_ptr<ProcessGroup> host, std::shared_ptr<ProcessGroup> device);

  std::string backendName() const override;
  // Collective: duplicates both groups (the host one first).
  std::shared_ptr<ProcessGroup> duplicate() const override;

 protected:
  WorkPtr runAllReduce(torch::Tensor tensor, ReduceOp op) override;
  WorkPtr runBroadcast(torch::Tensor tensor, int root) override;
  // The host group's: a point every rank's host has reached.
  WorkPtr runBarrier() override;
  WorkPtr runAllGather(torch::Tensor tensor) override;
  WorkPtr runAllGatherV(torch::Tensor tensor) override;
  WorkPtr runAllToAllV(torch::Tensor tensor, std::vector<std::int64_t> send_counts) override;

 private:
  ProcessGroup& groupFor(const torch::Tensor& tensor) const {
    return tensor.is_cuda() ? *device_ : *host_;
  }

  std::shared_ptr<ProcessGroup> host_, device_;
};

}  // namespace kgrec
