// HostDeviceProcessGroup sends each tensor over the group of its kind: host tensors over the
// host group, CUDA tensors over the device group. Both groups here are MPI groups (which also
// move CUDA tensors, staged through host memory), each wrapped to count what it was given.
// The CUDA case has "Gpu" in its name and skips without a CUDA device.

#include <gtest/gtest.h>

#include <functional>

#include <torch/cuda.h>
#include <torch/types.h>

#include "comm/host_device_process_group.h"
#include "comm/mpi/mpi_process_group.h"

namespace kgrec {
namespace {

// Passes every operation to `inner` and counts them.
class CountingGroup final : public ProcessGroup {
 public:
  explicit CountingGroup(std::shared_ptr<ProcessGroup> inner)
      : ProcessGroup(inner->rank(), inner->size()), inner_(std::move(inner)) {}
  std::string backendName() const override { return "counting " + inner_->backendName(); }
  std::shared_ptr<ProcessGroup> duplicate() const override {
    ++duplicates;
    return std::make_shared<CountingGroup>(inner_->duplicate());
  }
  int operations = 0;
  mutable int duplicates = 0;

 protected:
  WorkPtr runAllReduce(torch::Tensor t, ReduceOp op) override { return count(inner_->allReduce(t, op)); }
  WorkPtr runBroadcast(torch::Tensor t, int root) override { return count(inner_->broadcast(t, root)); }
  WorkPtr runBarrier() override { return count(inner_->barrier()); }
  WorkPtr runAllGather(torch::Tensor t) override { return count(inner_->allGather(t)); }
  WorkPtr runAllGatherV(torch::Tensor t) override { return count(inner_->allGatherV(t)); }
  WorkPtr runAllToAllV(torch::Tensor t, std::vector<std::int64_t> counts) override {
    return count(inner_->allToAllV(t, std::move(counts)));
  }

 private:
  WorkPtr count(WorkPtr work) {
    ++operations;
    return work;
  }
  std::shared_ptr<ProcessGroup> inner_;
};

struct Groups {
  std::shared_ptr<CountingGroup> host = std::make_shared<CountingGroup>(std::make_shared<MpiProcessGroup>());
  std::shared_ptr<CountingGroup> device = std::make_shared<CountingGroup>(std::make_shared<MpiProcessGroup>());
  HostDeviceProcessGroup group{host, device};
};

// Every operation once on tensors made by `on` (rank r contributes r + 1), checked against
// closed-form values on every rank. Returns the number of operations issued.
int runEveryOperation(ProcessGroup& group, const std::function<torch::Tensor(torch::Tensor)>& on) {
  const int rank = group.rank(), size = group.size();
  torch::Tensor sum = on(torch::full({3}, rank + 1.0f));
  group.allReduce(sum)->wait();
  EXPECT_TRUE(sum.cpu().equal(torch::full({3}, size * (size + 1) / 2.0f)));
  torch::Tensor root = on(torch::full({2}, rank + 1.0f));
  group.broadcast(root, 0)->wait();
  EXPECT_TRUE(root.cpu().equal(torch::ones({2})));
  group.barrier()->wait();
  EXPECT_EQ(group.allGather(on(torch::full({1}, rank + 1.0f)))->result().tensor.cpu().sum().item<float>(),
            size * (size + 1) / 2.0f);
  EXPECT_EQ(group.allGatherV(on(torch::ones({rank + 1, 2})))->result().tensor.size(0),
            size * (size + 1) / 2);
  const RankRows received =
      group.allToAllV(on(torch::full({size}, rank + 1.0f)), std::vector<std::int64_t>(size, 1))
          ->result();
  EXPECT_EQ(received.tensor.size(0), size);
  return 6;
}

TEST(HostDeviceProcessGroup, HostTensorsGoOverTheHostGroup) {
  Groups g;
  EXPECT_EQ(g.group.rank(), g.host->rank());
  const int operations = runEveryOperation(g.group, [](torch::Tensor t) { return t; });
  EXPECT_EQ(g.host->operations, operations);
  EXPECT_EQ(g.device->operations, 0);
  g.group.duplicate()->barrier()->wait();
  EXPECT_EQ(g.host->duplicates, 1);
  EXPECT_EQ(g.device->duplicates, 1);
}

TEST(HostDeviceProcessGroup, CudaTensorsGoOverTheDeviceGroupGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device is visible";
  Groups g;
  const int operations = runEveryOperation(
      g.group, [](torch::Tensor t) { return t.to(torch::Device(torch::kCUDA, 0)); });
  // The barrier is the host group's; every other operation moved CUDA tensors.
  EXPECT_EQ(g.device->operations, operations - 1);
  EXPECT_EQ(g.host->operations, 1);
}

}  // namespace
}  // namespace kgrec
