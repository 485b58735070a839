#pragma once
// The device a training run computes on (--device): model weights, ID-embedding rows and
// their Adam state, features, propagation tensors, losses and the evaluation's scoring live
// there; the sampler, the CSR and the index bookkeeping stay on the host.

#include <string>

#include <torch/types.h>

namespace kgrec {

// models/compute_device.h's computeDevice, plain "cuda" being the GPU of this rank's local
// rank on its node (from the launcher's environment).
torch::Device trainingDevice(const std::string& name);

}  // namespace kgrec
