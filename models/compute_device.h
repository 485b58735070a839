#pragma once
// The device a command computes on (--device of train and embed): "cpu", "cuda:N", or "cuda",
// the GPU numbered `local_rank` (a rank's position on its node: one rank per GPU; 0 for a
// single process).

#include <string>

#include <torch/types.h>

namespace kgrec {

// ConfigError for a malformed name, when no CUDA device is visible (saying so when this build
// has no CUDA support), or when the GPU asked for does not exist.
torch::Device computeDevice(const std::string& name, int local_rank);

}  // namespace kgrec
