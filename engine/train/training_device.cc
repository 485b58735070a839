#include "engine/train/training_device.h"

#include "comm/host_device_process_group.h"
#include "comm/mpi/mpi_runtime.h"
#ifdef KGREC_HAVE_CUDA
#include "comm/nccl/nccl_process_group.h"
#endif
#include "engine/common/error.h"
#include "models/compute_device.h"

namespace kgrec {

torch::Device trainingDevice(const std::string& name) {
  return computeDevice(name, launcherLocalRank());
}

std::shared_ptr<ProcessGroup> trainingGroup(std::shared_ptr<ProcessGroup> host,
                                            torch::Device device, const std::string& backend) {
  if (backend == "mpi" || !device.is_cuda()) return host;
#ifdef KGREC_HAVE_CUDA
  return std::make_shared<HostDeviceProcessGroup>(
      host, std::make_shared<NcclProcessGroup>(MPI_COMM_WORLD, device.index()));
#else
  // A CUDA LibTorch without kgrec's CUDA configuration sees the GPU but has no NCCL backend.
  throw ConfigError(fmt::format("--device {} on {} ranks: this build of kgrec has no NCCL; build "
                                "it with -DKGREC_CUDA=ON, or use --backend mpi",
                                device.str(), host->size()));
#endif
}

}  // namespace kgrec
