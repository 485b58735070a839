#pragma once
// The group of one process: every collective is the identity (a sum over one rank is the
// tensor itself), completed at once. A dataset file trains as one part over this group, with
// no MPI runtime, so that one trainer serves one process and P ranks alike.

#include "comm/process_group.h"

namespace kgrec {

class LocalProcessGroup final : public ProcessGroup {
 public:
  LocalProcessGroup() : ProcessGroup(0, 1) {}
  std::string backendName() const override { return "local"; }
  std::shared_ptr<ProcessGroup> duplicate() const override;

 protected:
  WorkPtr runAllReduce(torch::Tensor tensor, ReduceOp op) override;
  WorkPtr runBroadcast(torch::Tensor tensor, int root) override;
  WorkPtr runBarrier() override;
  WorkPtr runAllGather(torch::Tensor tensor) override;
  WorkPtr runAllGatherV(torch::Tensor tensor) override;
  WorkPtr runAllToAllV(torch::Tensor tensor, std::vector<std::int64_t> send_counts) override;
};

}  // namespace kgrec
