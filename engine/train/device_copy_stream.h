#pragma once
// Host-to-device copies made off the training step's thread, so that the next batch crosses
// while the current step computes. On a GPU the copies leave from pinned host memory on a CUDA
// stream of their own; on the CPU there is nothing to copy.

#include <memory>
#include <vector>

#include <torch/types.h>

namespace kgrec {

class DeviceCopyStream {
 public:
  explicit DeviceCopyStream(torch::Device device);
  ~DeviceCopyStream();
  DeviceCopyStream(const DeviceCopyStream&) = delete;
  DeviceCopyStream& operator=(const DeviceCopyStream&) = delete;

  // Replaces each host tensor by its copy on the device and returns once every copy is
  // complete, so that a batch handed on is ready to use. Called on the thread that prepares
  // batches; on a GPU it waits for its own stream only, not for the step computing meanwhile.
  void copy(const std::vector<torch::Tensor*>& tensors) const;

  // Called on the thread that computes with the copied tensors, before it does: the CUDA
  // caching allocator then keeps their memory until that thread's current stream is done with
  // them (it only knows of the copy stream, which is done at once).
  void adopt(const std::vector<torch::Tensor*>& tensors) const;

 private:
  torch::Device device_;
  struct CudaStream;  // with a CUDA build (KGREC_HAVE_CUDA) and a GPU device only
  std::unique_ptr<CudaStream> cuda_;
};

}  // namespace kgrec
