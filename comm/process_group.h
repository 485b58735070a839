#pragma once
// A group of ranks that all-reduce, broadcast, gather and exchange LibTorch tensors.
// Backends: MpiProcessGroup (comm/mpi/: CPU tensors; GPU tensors staged through host memory)
// and NcclProcessGroup (comm/nccl/, CUDA builds only: GPU tensors).
//
// Contract, as in MPI: every rank of the group calls the same collectives in the same order,
// with the same dtype, and the same shape where an operation says so; a rank that skips one
// leaves the others waiting. There is no timeout: a lost rank is handled by aborting the job
// (abortJob), because MPI cannot cancel a collective.
//
// Every operation is asynchronous: it validates its arguments, queues the operation and
// returns a Work at once. The backend runs its queue in call order on its own thread (MPI) or
// CUDA stream (NCCL), so a caller can compute while gradients travel. Tensors handed to an
// operation belong to it until its wait() returns: do not read or write them before.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace kgrec {

enum class ReduceOp { kSum, kAvg };

const char* toString(ReduceOp op);

// Rows of a variable-size collective: `tensor` is [sum(counts), *row shape], the rows of rank
// 0 first, then rank 1's, ...; counts[r] is the number of rows that came from (or went to)
// rank r.
struct RankRows {
  torch::Tensor tensor;
  std::vector<std::int64_t> counts;
};

class Work {
 public:
  virtual ~Work() = default;
  // MPI: blocks until this rank's part of the operation is done. NCCL: makes the caller's
  // current CUDA stream wait for it (the host does not block, except for barrier). Either way
  // the tensors may be used afterwards; rethrows the operation's error.
  virtual void wait() = 0;
  // True once the operation has finished; never blocks.
  virtual bool isCompleted() = 0;
  // The output of allGather, allGatherV and allToAllV; waits first.
  RankRows result();

 protected:
  // Backends set the output before they mark the work completed.
  void setResult(RankRows result) { result_ = std::move(result); }

 private:
  RankRows result_;
};

using WorkPtr = std::shared_ptr<Work>;

// The public calls check their arguments (the same way on every rank, so that all ranks throw
// together) and hand over to the backend's run* functions.
class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  virtual std::string backendName() const = 0;
  // Collective: a new group of the same ranks whose operations never match this one's, e.g.
  // one per sampling thread, so that each has its own call order.
  virtual std::shared_ptr<ProcessGroup> duplicate() const = 0;

  // In place: `tensor` (same shape and dtype on every rank) becomes the sum, or the mean, over
  // ranks. Sum: float32, float16, bfloat16, float64, int32, int64. Avg: the floating types.
  WorkPtr allReduce(const torch::Tensor& tensor, ReduceOp op = ReduceOp::kSum);
  // In place: `tensor` (same shape and dtype everywhere) becomes rank `root`'s.
  WorkPtr broadcast(const torch::Tensor& tensor, int root = 0);
  // Completes once every rank has called it.
  WorkPtr barrier();
  // Same shape everywhere; result().tensor is [size(), *tensor.shape], rank r's at index r.
  WorkPtr allGather(const torch::Tensor& tensor);
  // `tensor` is [n_r, *row shape] with any n_r >= 0 (rows and dtype equal on every rank);
  // result() holds every rank's rows in rank order, counts[r] = n_r.
  WorkPtr allGatherV(const torch::Tensor& tensor);
  // `tensor` is [sum(send_counts), *row shape]: first send_counts[0] rows for rank 0, then
  // rank 1's, ... result() holds the rows received, grouped by source rank in rank order,
  // counts[r] = rows rank r sent here.
  WorkPtr allToAllV(const torch::Tensor& tensor, std::vector<std::int64_t> send_counts);

 protected:
  ProcessGroup(int rank, int size);

  // Arguments are checked; tensors are detached, so in-place writes never meet autograd.
  virtual WorkPtr runAllReduce(torch::Tensor tensor, ReduceOp op) = 0;
  virtual WorkPtr runBroadcast(torch::Tensor tensor, int root) = 0;
  virtual WorkPtr runBarrier() = 0;
  virtual WorkPtr runAllGather(torch::Tensor tensor) = 0;
  virtual WorkPtr runAllGatherV(torch::Tensor tensor) = 0;
  virtual WorkPtr runAllToAllV(torch::Tensor tensor, std::vector<std::int64_t> send_counts) = 0;

 private:
  int rank_;
  int size_;
};

// Elements of one row ([n, *row shape] tensors): the product of sizes 1.. (1 for a 1-d tensor).
std::int64_t rowElements(const torch::Tensor& tensor);

}  // namespace kgrec
