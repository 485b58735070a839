#pragma once
// The training step's input pipeline: BatchPipeline's sampled batches, with their blocks
// built as tensors and copied to the training device by a thread of its own (a
// DeviceCopyStream), so that the step's thread only computes: on a GPU the next batch's
// blocks cross from pinned memory while the current step runs.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/train/device_copy_stream.h"
#include "models/block_gnn.h"
#include "sampler/batch_pipeline.h"

namespace kgrec {

// A sampled batch and its blocks on the training device.
struct DeviceBatch {
  MiniBatch batch;
  std::vector<BlockTensors> blocks;
};

class DeviceBatchPipeline {
 public:
  // Batches staged ahead of the one being computed on: one being copied while the step runs,
  // one ready for the next step.
  static constexpr std::int64_t kStagedAhead = 2;

  // BatchPipeline's arguments, and the device the blocks go to.
  DeviceBatchPipeline(const NeighborSampler& sampler, std::int64_t epoch, std::int64_t steps,
                      int threads, std::size_t queue_capacity, std::int64_t first_step,
                      torch::Device device);
  // Stops both stages; with a collective sampling source, every rank's sampler first builds
  // the same steps (BatchPipeline::stop).
  ~DeviceBatchPipeline();
  DeviceBatchPipeline(const DeviceBatchPipeline&) = delete;
  DeviceBatchPipeline& operator=(const DeviceBatchPipeline&) = delete;

  // The next batch in step order, its blocks on the device and usable on the calling thread's
  // stream; false once all steps were handed out. Rethrows the first error of either stage.
  bool next(DeviceBatch* batch);

  // Seconds next() waited for a batch: its sampling, block building and copy not yet done
  // (on a GPU, the time the device waited for input).
  double waitSeconds() const;

 private:
  void stage();  // the staging thread

  BatchPipeline sampled_;
  DeviceCopyStream copy_;
  const std::int64_t queue_capacity_;
  mutable std::mutex mutex_;
  std::condition_variable ready_cv_;  // a batch was staged, staging ended or failed
  std::condition_variable space_cv_;  // a batch was taken, or stopping
  std::deque<DeviceBatch> staged_;
  std::int64_t in_staging_ = 0;       // batches taken from `sampled_`, not yet in staged_
  std::int64_t next_step_;            // the step next() hands out next
  bool done_ = false;                 // every batch has been staged
  bool stop_ = false;
  std::exception_ptr error_;
  double wait_seconds_ = 0.0;
  std::thread stager_;
};

}  // namespace kgrec
