#pragma once
// Background sampling ahead of the training step: a pool of threads computes the batches of
// one epoch into a bounded buffer; next() hands them out in step order. Because a batch
// depends on (seed, epoch, step) only, the batches are the same whatever the thread count.

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "sampler/neighbor_sampler.h"

namespace kgrec {

class BatchPipeline {
 public:
  // Steps 0 .. steps-1 of `epoch` (steps <= sampler.stepsPerEpoch(), the same on every rank).
  // When the sampler's remote source is collective: one worker per lane of it, whatever
  // `threads`, worker w building steps w, w + lanes, ... in order. At most
  // `queue_capacity` batches are being built or waiting at any time, counted from the next one
  // to hand out, so memory stays bounded even when one slow batch holds up the others. ConfigError for threads < 1, queue_capacity < 1 or steps out of range.
  // `first_step` > 0 starts inside the epoch (a resumed run).
  BatchPipeline(const NeighborSampler& sampler, std::int64_t epoch, std::int64_t steps,
                int threads, std::size_t queue_capacity, std::int64_t first_step = 0);
  // Stops the workers and joins them; batches not taken are dropped. With a collective source,
  // stop(next step to hand out + queue capacity) first, unless stop() was called.
  ~BatchPipeline();
  BatchPipeline(const BatchPipeline&) = delete;
  BatchPipeline& operator=(const BatchPipeline&) = delete;

  // The next batch in step order; false once all steps were handed out, or after stop() for a
  // step that will not be built. Rethrows the first exception of a worker (then and on every
  // later call). One consumer thread at a time.
  bool next(MiniBatch* batch);

  // Makes the workers stop; returns at once. With a collective remote source every rank's
  // workers must sample the same steps, or a worker waits forever in a collective that the
  // others never join, so they first build every step before `bound` (the same number on every
  // rank: the consumer's agreed position plus what may be taken or built ahead of it). Without
  // one they stop at once and `bound` is ignored. Any thread may call it; calls after the first
  // are ignored.
  void stop(std::int64_t bound);

  // How often next() found its batch not ready, and how long it waited in all: non-zero means
  // the training step waited on sampling.
  std::int64_t waitCount() const;
  double waitSeconds() const;

 private:
  // lane < 0: any step not yet taken; else the lane's steps, in order.
  void work(int lane);

  const NeighborSampler& sampler_;
  const std::int64_t epoch_;
  const std::int64_t steps_;
  const std::int64_t capacity_;
  const std::int64_t first_step_;
  const int lanes_;  // the collective source's lanes; 0: none

  mutable std::mutex mutex_;
  std::condition_variable ready_cv_;  // a batch is ready or a worker failed
  std::condition_variable space_cv_;  // a batch was taken, or stopping
  std::int64_t next_to_build_ = 0;
  std::int64_t next_to_hand_ = 0;
  std::map<std::int64_t, MiniBatch> ready_;  // the reorder buffer
  std::exception_ptr error_;
  bool stop_ = false;
  std::int64_t stop_bound_ = 0;  // after stop(), with lanes: build the steps before this
  std::int64_t wait_count_ = 0;
  double wait_seconds_ = 0.0;
  std::vector<std::thread> workers_;
};

}  // namespace kgrec
