#include "models/compute_device.h"

#include <torch/cuda.h>

#include "engine/common/error.h"

namespace kgrec {

torch::Device computeDevice(const std::string& name, int local_rank) {
  if (name == "cpu") return torch::kCPU;
  if (name != "cuda" && name.rfind("cuda:", 0) != 0) {
    throw ConfigError(fmt::format("--device {}: expected cpu, cuda or cuda:N", name));
  }
  if (!torch::cuda::is_available()) {
#ifdef KGREC_HAVE_CUDA
    const char* build = "";
#else
    const char* build = " (and this build of kgrec has no CUDA support: build it with "
                        "-DKGREC_CUDA=ON, docs/architecture.md)";
#endif
    throw ConfigError(fmt::format("--device {}: no CUDA device is visible to this process{}; "
                                  "use --device cpu", name, build));
  }
  const auto count = static_cast<int>(torch::cuda::device_count());
  int index = 0;
  if (name == "cuda") {
    index = local_rank;
    if (index >= count) {
      throw ConfigError(fmt::format(
          "--device cuda: this rank is local rank {} on its node and sees {} CUDA device{}: "
          "start one rank per GPU, or name one with --device cuda:N (cuda:0 where the launcher "
          "gives each rank a GPU of its own, as srun --gpus-per-task=1 does)", index, count,
          count == 1 ? "" : "s"));
    }
  } else {
    try {
      std::size_t used = 0;
      index = std::stoi(name.substr(5), &used);
      if (used != name.size() - 5) throw std::invalid_argument(name);
    } catch (const std::logic_error&) {
      throw ConfigError(fmt::format("--device {}: expected cpu, cuda or cuda:N", name));
    }
    if (index < 0 || index >= count) {
      throw ConfigError(fmt::format("--device {}: this process sees {} CUDA device{} (0 to {})",
                                    name, count, count == 1 ? "" : "s", count - 1));
    }
  }
  return {torch::kCUDA, static_cast<torch::DeviceIndex>(index)};
}

}  // namespace kgrec
