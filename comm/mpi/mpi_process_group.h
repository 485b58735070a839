#pragma once
// ProcessGroup over MPI. CPU tensors are used in place; GPU tensors are copied to host memory
// when the operation is queued and back when it has run, so this backend also serves ranks
// that share one GPU (where NCCL refuses).
//
// Operations run in call order on one worker thread per group, which blocks in MPI while the
// caller computes: communication overlaps computation even though MPI makes little progress
// on non-blocking collectives outside its own calls. float16 and bfloat16 sums use MPI
// user-defined operations (MPI has no 16-bit float types); each pairwise sum is computed in
// float32 and rounded once, as NCCL does.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include <mpi.h>

#include "comm/process_group.h"

namespace kgrec {

class MpiProcessGroup final : public ProcessGroup {
 public:
  // Collective over `comm`. Works on a duplicate of it, so that the group's messages never
  // match other MPI calls on `comm`. MPI must be initialised with MPI_THREAD_MULTIPLE
  // (MpiRuntime does that).
  explicit MpiProcessGroup(MPI_Comm comm = MPI_COMM_WORLD);
  // Runs what is still queued, then frees the communicator: destroy it before MPI_Finalize,
  // at the same point on every rank.
  ~MpiProcessGroup() override;

  std::string backendName() const override { return "mpi"; }
  // A duplicate of the communicator this group was made from (not of the group's own, which
  // its worker thread may be using).
  std::shared_ptr<ProcessGroup> duplicate() const override;

 protected:
  WorkPtr runAllReduce(torch::Tensor tensor, ReduceOp op) override;
  WorkPtr runBroadcast(torch::Tensor tensor, int root) override;
  WorkPtr runBarrier() override;
  WorkPtr runAllGather(torch::Tensor tensor) override;
  WorkPtr runAllGatherV(torch::Tensor tensor) override;
  WorkPtr runAllToAllV(torch::Tensor tensor, std::vector<std::int64_t> send_counts) override;

 private:
  class MpiWork;
  // Runs on the worker thread; returns the output of gathering operations.
  using Task = std::function<RankRows()>;
  struct Queued {
    std::shared_ptr<MpiWork> work;
    Task task;
  };

  WorkPtr enqueue(Task task);
  void workerLoop();
  // MPI element type of `type` for moving data (any dtype of 1, 2, 4 or 8 bytes).
  MPI_Datatype transferType(torch::ScalarType type, const char* operation) const;

  MPI_Comm parent_ = MPI_COMM_NULL;
  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Datatype two_bytes_ = MPI_DATATYPE_NULL;  // float16 and bfloat16 elements
  MPI_Op half_sum_ = MPI_OP_NULL;
  MPI_Op bfloat16_sum_ = MPI_OP_NULL;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Queued> queue_;
  bool stopping_ = false;
  std::thread worker_;  // last member: started once everything above exists
};

}  // namespace kgrec
