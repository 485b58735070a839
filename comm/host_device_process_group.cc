#include "comm/host_device_process_group.h"

#include "engine/common/error.h"

namespace kgrec {

HostDeviceProcessGroup::HostDeviceProcessGroup(std::shared_ptr<ProcessGroup> host,
                                               std::shared_ptr<ProcessGroup> device)
    : ProcessGroup(host->rank(), host->size()), host_(std::move(host)), device_(std::move(device)) {
  KGREC_CHECK(device_->rank() == rank() && device_->size() == size(),
              "host group rank {} of {}, device group rank {} of {}", rank(), size(),
              device_->rank(), device_->size());
}

std::string HostDeviceProcessGroup::backendName() const {
  return device_->backendName() + " + " + host_->backendName() + " for host tensors";
}

std::shared_ptr<ProcessGroup> HostDeviceProcessGroup::duplicate() const {
  std::shared_ptr<ProcessGroup> host = host_->duplicate();
  return std::make_shared<HostDeviceProcessGroup>(std::move(host), device_->duplicate());
}

WorkPtr HostDeviceProcessGroup::runAllReduce(torch::Tensor tensor, ReduceOp op) {
  return groupFor(tensor).allReduce(tensor, op);
}

WorkPtr HostDeviceProcessGroup::runBroadcast(torch::Tensor tensor, int root) {
  return groupFor(tensor).broadcast(tensor, root);
}

WorkPtr HostDeviceProcessGroup::runBarrier() { return host_->barrier(); }

WorkPtr HostDeviceProcessGroup::runAllGather(torch::Tensor tensor) {
  return groupFor(tensor).allGather(tensor);
}

WorkPtr HostDeviceProcessGroup::runAllGatherV(torch::Tensor tensor) {
  return groupFor(tensor).allGatherV(tensor);
}

WorkPtr HostDeviceProcessGroup::runAllToAllV(torch::Tensor tensor,
                                             std::vector<std::int64_t> send_counts) {
  return groupFor(tensor).allToAllV(tensor, std::move(send_counts));
}

}  // namespace kgrec
