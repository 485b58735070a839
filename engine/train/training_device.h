#pragma once
// The device a training run computes on (--device): model weights, ID-embedding rows and
// their Adam state, features, propagation tensors, losses and the evaluation's scoring live
// there; the sampler, the CSR and the index bookkeeping stay on the host.

#include <memory>
#include <string>

#include <torch/types.h>

#include "comm/process_group.h"

namespace kgrec {

// models/compute_device.h's computeDevice, plain "cuda" being the GPU of this rank's local
// rank on its node (from the launcher's environment).
torch::Device trainingDevice(const std::string& name);

// The group ranks train over (--backend): `host` (MPI) alone, or where CUDA tensors go over
// NCCL (`backend` nccl, or auto, with a CUDA `device`) a group that sends them over NCCL on
// `device` and host tensors over `host`. Collective over MPI_COMM_WORLD when it makes the NCCL
// group. ConfigError where that is asked of a build without NCCL.
std::shared_ptr<ProcessGroup> trainingGroup(std::shared_ptr<ProcessGroup> host,
                                            torch::Device device, const std::string& backend);

}  // namespace kgrec
