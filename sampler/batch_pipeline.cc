#include "sampler/batch_pipeline.h"

#include <algorithm>
#include <chrono>

#include "engine/common/error.h"

namespace kgrec {

BatchPipeline::BatchPipeline(const NeighborSampler& sampler, std::int64_t epoch,
                             std::int64_t steps, int threads, std::size_t queue_capacity,
                             std::int64_t first_step)
    : sampler_(sampler), epoch_(epoch), steps_(steps),
      capacity_(static_cast<std::int64_t>(queue_capacity)), first_step_(first_step),
      lanes_(sampler.remoteLanes()), next_to_build_(first_step), next_to_hand_(first_step) {
  if (threads < 1) throw ConfigError(fmt::format("sampler threads is {}: at least 1", threads));
  if (queue_capacity < 1) throw ConfigError("sampler queue capacity is 0: at least 1");
  if (steps < 0 || steps > sampler.stepsPerEpoch()) {
    throw ConfigError(fmt::format("{} steps asked of an epoch of {}", steps,
                                  sampler.stepsPerEpoch()));
  }
  if (first_step < 0 || first_step > steps) {
    throw ConfigError(fmt::format("first step {} outside an epoch of {} steps", first_step, steps));
  }
  // A collective remote source needs each lane's batches built in step order, by one thread.
  const int workers = lanes_ > 0 ? lanes_ : threads;
  workers_.reserve(workers);
  for (int t = 0; t < workers; ++t) workers_.emplace_back([this, t] { work(lanes_ > 0 ? t : -1); });
}

BatchPipeline::~BatchPipeline() {
  std::int64_t bound;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    bound = next_to_hand_ + capacity_;
  }
  stop(bound);
  for (std::thread& worker : workers_) worker.join();
}

void BatchPipeline::stop(std::int64_t bound) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) return;
    stop_ = true;
    stop_bound_ = lanes_ > 0 ? std::min(bound, steps_) : 0;
  }
  space_cv_.notify_all();
  ready_cv_.notify_all();  // a consumer waiting for a step no worker will build
}

void BatchPipeline::work(int lane) {
  // The lane's first step at or after first_step_.
  std::int64_t own = lane < 0 ? 0 : first_step_ + ((lane - first_step_) % lanes_ + lanes_) % lanes_;
  for (;;) {
    std::int64_t step;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      std::int64_t& next = lane < 0 ? next_to_build_ : own;
      space_cv_.wait(lock, [&] {
        return stop_ || error_ || next >= steps_ || next < next_to_hand_ + capacity_;
      });
      // Once stopped, a lane's worker still builds its steps before the bound (see stop()).
      if ((stop_ && next >= stop_bound_) || error_ || next >= steps_) return;
      step = next;
      next += lane < 0 ? 1 : lanes_;
    }
    try {
      MiniBatch batch = sampler_.sample(epoch_, step);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(step, std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      space_cv_.notify_all();  // idle workers stop too
    }
    ready_cv_.notify_all();
  }
}

bool BatchPipeline::next(MiniBatch* batch) {
  std::unique_lock<std::mutex> lock(mutex_);
  // Past the last step, or stopped before a step that will not be built.
  const auto ended = [&] {
    return next_to_hand_ >= steps_ || (stop_ && next_to_hand_ >= stop_bound_);
  };
  if (ended() && !error_) return false;
  auto found = ready_.find(next_to_hand_);
  if (found == ready_.end() && !error_) {
    ++wait_count_;
    const auto start = std::chrono::steady_clock::now();
    ready_cv_.wait(lock, [&] {
      found = ready_.find(next_to_hand_);
      return found != ready_.end() || error_ || ended();
    });
    wait_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  if (found == ready_.end()) {
    if (error_) std::rethrow_exception(error_);
    return false;
  }
  *batch = std::move(found->second);
  ready_.erase(found);
  ++next_to_hand_;
  lock.unlock();
  space_cv_.notify_all();
  return true;
}

std::int64_t BatchPipeline::waitCount() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return wait_count_;
}

double BatchPipeline::waitSeconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return wait_seconds_;
}

}  // namespace kgrec
