#pragma once
// The device a training run computes on (--device): model weights, ID-embedding rows and
// their Adam state, features, propagation tensors, losses and the evaluation's scoring live
// there; the sampler, the CSR and the index bookkeeping stay on the host.

#include <string>

#include <torch/types.h>

namespace kgrec {

// "cpu", "cuda:N", or "cuda": the GPU of this rank's local rank on its node (one rank per
// GPU, from the launcher's environment). ConfigError when no CUDA device is visible (saying
// so when this build has no CUDA support) or the device asked for does not exist.
torch::Device trainingDevice(const std::string& name);

}  // namespace kgrec
