#include "engine/train/training_device.h"

#include "comm/mpi/mpi_runtime.h"
#include "models/compute_device.h"

namespace kgrec {

torch::Device trainingDevice(const std::string& name) {
  return computeDevice(name, launcherLocalRank());
}

}  // namespace kgrec
