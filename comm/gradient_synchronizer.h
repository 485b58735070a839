#pragma once
// Data-parallel gradient synchronisation (the idea of PyTorch's DDP Reducer, in C++): every
// rank holds a replica of the parameters, computes gradients on its own share of the batch,
// and the replicas' gradients are averaged so that all ranks take the same optimizer step.
//
// Parameters are grouped into buckets of about `bucket_bytes`, each a flat tensor with a view
// per parameter. A hook on each parameter's gradient accumulator copies the gradient into its
// bucket once backward has produced it; a bucket whose gradients are all in is all-reduced at
// once, on the process group's thread or stream, while backward goes on with earlier layers.
//
// Per step, on every rank:
//   loss.backward();          // buckets are launched as their gradients become ready
//   sync.finalize();          // waits, bucket by bucket, and writes the means (or sums) into grad()
//   optimizer.step();
// One backward per finalize(); gradient accumulation over several backwards is not supported.
// Change parameter values in place (copy_) while a synchroniser is attached: torch::load swaps
// their storage, after which the hooks no longer see their gradients.

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <torch/types.h>

#include "comm/process_group.h"

namespace torch::autograd {
struct Node;
}

namespace kgrec {

struct GradientSynchronizerOptions {
  // PyTorch DDP's default: large enough to amortise each call's latency, small enough that
  // the first bucket is launched early in backward.
  std::int64_t bucket_bytes = 25 << 20;
  // false: all buckets are reduced in finalize(), after backward. The baseline for measuring
  // what overlap hides, and a debugging aid.
  bool overlap = true;
  // The rank whose initial parameters every replica starts from.
  int root = 0;
  // kAvg: each rank's loss is a mean over its own share of the batch (DDP). kSum: each rank's
  // loss is already its share of the global batch's loss, so the gradients add up.
  ReduceOp reduce = ReduceOp::kAvg;
};

// Bucket assignment, identical on every rank since it depends only on the parameters' order,
// sizes and types: parameters are taken in reverse (backward produces the last layers'
// gradients first), each bucket holds one dtype and device, and a bucket is closed once it
// holds at least `bucket_bytes`. Returns indices into `params`, bucket by bucket.
std::vector<std::vector<std::size_t>> assignBuckets(const std::vector<torch::Tensor>& params,
                                                    std::int64_t bucket_bytes);

class GradientSynchronizer {
 public:
  // Collective: broadcasts the parameters from options.root, so that all replicas start
  // equal, then hooks every parameter (leaf tensors that require grad; dense gradients).
  GradientSynchronizer(std::shared_ptr<ProcessGroup> group, std::vector<torch::Tensor> params,
                       GradientSynchronizerOptions options = {});
  // Removes the hooks; call finalize() first if a backward has run since the last one.
  ~GradientSynchronizer();
  GradientSynchronizer(const GradientSynchronizer&) = delete;
  GradientSynchronizer& operator=(const GradientSynchronizer&) = delete;

  // Collective, once after each backward: launches what backward has not (all buckets when
  // overlap is off; a parameter that got no gradient on this rank counts as zero), then waits
  // for the buckets in launch order, writing each one's reduced gradients into grad() as soon as
  // it has arrived. Afterwards every rank holds the same gradients.
  void finalize();

  std::size_t numBuckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<std::size_t> params;   // indices into params_
    std::vector<std::int64_t> offsets;  // each parameter's first element in `flat`
    torch::Tensor flat;
    std::size_t pending = 0;  // gradients not yet copied in this step
    WorkPtr work;
  };

  torch::Tensor slot(const Bucket& bucket, std::size_t i) const;
  void onGradientReady(std::size_t param);
  // Launches buckets in index order while the next one is complete: the order of the
  // all-reduces must be the same on every rank, whatever order the hooks fire in.
  void launchReadyBuckets();
  void broadcastParameters();

  std::shared_ptr<ProcessGroup> group_;
  std::vector<torch::Tensor> params_;
  GradientSynchronizerOptions options_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_;  // parameter -> bucket
  std::vector<std::size_t> index_in_bucket_;
  std::vector<bool> ready_;             // parameter's gradient copied in this step
  std::size_t next_launch_ = 0;
  std::mutex mutex_;  // hooks may run on autograd's device threads
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;  // kept alive: see .cc
  std::vector<std::uintptr_t> hook_keys_;
};

}  // namespace kgrec
