#pragma once
// ProcessGroup over NCCL for CUDA tensors; built only when KGREC_HAVE_CUDA. One GPU per rank:
// NCCL refuses two ranks on one device ("duplicate GPU"), where MpiProcessGroup serves.
//
// Operations run on the group's own CUDA stream. Each one first makes that stream wait for
// what the caller has queued so far on its current stream, and tells LibTorch's caching
// allocator that the stream uses the tensors (so their memory is not reused too early);
// Work::wait() makes the caller's current stream wait for the operation, without blocking the
// host (barrier excepted: its wait() blocks). The variable-size operations exchange their
// row counts first and wait for them on the host, because the output must be allocated.

#include <mpi.h>
#include <nccl.h>

#include <functional>
#include <memory>

#include <c10/cuda/CUDAStream.h>

#include "comm/process_group.h"

namespace kgrec {

class NcclProcessGroup final : public ProcessGroup {
 public:
  // Collective over `comm`: its rank 0 creates the NCCL id and broadcasts it over MPI, then
  // every rank joins the NCCL communicator on CUDA device `device`. `comm` must outlive the
  // group (duplicate() uses it again).
  NcclProcessGroup(MPI_Comm comm, int device);
  // Waits for the group's stream, then destroys the communicator.
  ~NcclProcessGroup() override;

  std::string backendName() const override { return "nccl"; }
  // A new NCCL communicator of the same ranks on the same device (its id broadcast over the
  // MPI communicator this group was made from), with a stream of its own.
  std::shared_ptr<ProcessGroup> duplicate() const override;
  // True when this process sees a CUDA device.
  static bool available();

 protected:
  WorkPtr runAllReduce(torch::Tensor tensor, ReduceOp op) override;
  WorkPtr runBroadcast(torch::Tensor tensor, int root) override;
  WorkPtr runBarrier() override;
  WorkPtr runAllGather(torch::Tensor tensor) override;
  WorkPtr runAllGatherV(torch::Tensor tensor) override;
  WorkPtr runAllToAllV(torch::Tensor tensor, std::vector<std::int64_t> send_counts) override;

 private:
  class NcclWork;

  // Orders the group's stream after the caller's, marks `tensors` as used by it, runs `body`
  // (which queues NCCL calls on stream_) and returns a Work that completes after them.
  WorkPtr launch(const std::vector<torch::Tensor>& tensors, const std::function<void()>& body,
                 RankRows result = {}, bool blocking = false);
  void checkDevice(const torch::Tensor& tensor, const char* operation) const;
  // Every rank's {rows, row elements, dtype} as seen by this rank, checked to agree.
  std::vector<std::int64_t> exchangeCounts(const torch::Tensor& tensor,
                                           const std::vector<std::int64_t>* send_counts,
                                           const char* operation);

  MPI_Comm parent_;
  int device_;
  ncclComm_t comm_ = nullptr;
  c10::cuda::CUDAStream stream_;
};

}  // namespace kgrec
