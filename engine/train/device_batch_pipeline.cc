#include "engine/train/device_batch_pipeline.h"

#include <chrono>
#include <utility>

namespace kgrec {

DeviceBatchPipeline::DeviceBatchPipeline(const NeighborSampler& sampler, std::int64_t epoch,
                                         std::int64_t steps, int threads,
                                         std::size_t queue_capacity, std::int64_t first_step,
                                         torch::Device device)
    : sampled_(sampler, epoch, steps, threads, queue_capacity, first_step),
      copy_(device),
      queue_capacity_(static_cast<std::int64_t>(queue_capacity)),
      next_step_(first_step),
      stager_([this] { stage(); }) {}

DeviceBatchPipeline::~DeviceBatchPipeline() {
  std::int64_t bound;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    // The stager has taken at most kStagedAhead batches past next_step_, and the sampler
    // builds at most its queue capacity past those: the same bound on every rank.
    bound = next_step_ + kStagedAhead + queue_capacity_;
  }
  space_cv_.notify_all();
  sampled_.stop(bound);
  stager_.join();
}

void DeviceBatchPipeline::stage() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      space_cv_.wait(lock, [&] {
        return stop_ || static_cast<std::int64_t>(staged_.size()) + in_staging_ < kStagedAhead;
      });
      if (stop_) return;
      ++in_staging_;
    }
    try {
      DeviceBatch staged;
      const bool more = sampled_.next(&staged.batch);
      if (more) {
        std::vector<torch::Tensor*> tensors;
        staged.blocks.reserve(staged.batch.blocks.size());
        for (const Block& block : staged.batch.blocks) {
          staged.blocks.push_back(BlockTensors::from(block, torch::kCPU));
          for (torch::Tensor* t : staged.blocks.back().tensors()) tensors.push_back(t);
        }
        copy_.copy(tensors);
      }
      std::lock_guard<std::mutex> lock(mutex_);
      --in_staging_;
      if (!more) {
        done_ = true;
      } else {
        staged_.push_back(std::move(staged));
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      --in_staging_;
      error_ = std::current_exception();
    }
    ready_cv_.notify_all();
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_ || error_) return;
  }
}

bool DeviceBatchPipeline::next(DeviceBatch* batch) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (staged_.empty() && !done_ && !error_) {
    const auto start = std::chrono::steady_clock::now();
    ready_cv_.wait(lock, [&] { return !staged_.empty() || done_ || error_; });
    wait_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  if (staged_.empty()) {
    if (error_) std::rethrow_exception(error_);
    return false;
  }
  *batch = std::move(staged_.front());
  staged_.pop_front();
  ++next_step_;
  lock.unlock();
  space_cv_.notify_all();
  for (BlockTensors& block : batch->blocks) copy_.adopt(block.tensors());
  return true;
}

double DeviceBatchPipeline::waitSeconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return wait_seconds_;
}

}  // namespace kgrec
