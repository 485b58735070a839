#include "engine/train/device_copy_stream.h"

#ifdef KGREC_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace kgrec {

#ifdef KGREC_HAVE_CUDA
struct DeviceCopyStream::CudaStream {
  explicit CudaStream(torch::Device device)
      : stream(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device.index())) {}
  c10::cuda::CUDAStream stream;
};
#else
struct DeviceCopyStream::CudaStream {};
#endif

DeviceCopyStream::DeviceCopyStream(torch::Device device) : device_(device) {
#ifdef KGREC_HAVE_CUDA
  if (device_.is_cuda()) {
    if (!device_.has_index()) device_ = torch::Device(torch::kCUDA, c10::cuda::current_device());
    cuda_ = std::make_unique<CudaStream>(device_);
  }
#endif
}

DeviceCopyStream::~DeviceCopyStream() = default;

void DeviceCopyStream::copy(const std::vector<torch::Tensor*>& tensors) const {
#ifdef KGREC_HAVE_CUDA
  if (cuda_) {
    // Allocated and filled on the copy stream; pinned sources let the copies run
    // asynchronously to the host, and the caching host allocator holds each pinned buffer
    // until its copy is done.
    const c10::cuda::CUDAStreamGuard on_copy_stream(cuda_->stream);
    for (torch::Tensor* tensor : tensors) {
      *tensor = tensor->pin_memory().to(device_, /*non_blocking=*/true);
    }
    cuda_->stream.synchronize();
    return;
  }
#endif
  // The CPU, or a device this build has no stream for: a plain copy.
  if (device_ == torch::kCPU) return;
  for (torch::Tensor* tensor : tensors) *tensor = tensor->to(device_);
}

void DeviceCopyStream::adopt(const std::vector<torch::Tensor*>& tensors) const {
#ifdef KGREC_HAVE_CUDA
  if (!cuda_) return;
  const c10::cuda::CUDAStream compute = c10::cuda::getCurrentCUDAStream(device_.index());
  for (torch::Tensor* tensor : tensors) tensor->record_stream(compute);
#else
  (void)tensors;
#endif
}

}  // namespace kgrec
