#include "comm/gradient_synchronizer.h"

#include <map>
#include <utility>

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/utils.h>

#include "engine/common/error.h"

namespace kgrec {

// Note [Hooking the gradient accumulator]
// A hook registered with Tensor::register_hook runs before the gradient is accumulated into
// grad(); a post-hook on the leaf's AccumulateGrad node runs after, when grad() holds what
// the optimizer will use. That is what DDP's Reducer hooks too. A leaf keeps only a weak
// pointer to its accumulator, which is rebuilt (without our hook) once no graph holds it, so
// the synchroniser keeps the accumulators alive for its own lifetime.

std::vector<std::vector<std::size_t>> assignBuckets(const std::vector<torch::Tensor>& params,
                                                    std::int64_t bucket_bytes) {
  KGREC_CHECK(bucket_bytes > 0, "bucket size must be positive, got {}", bucket_bytes);
  std::vector<std::vector<std::size_t>> buckets;
  // Open bucket (index into buckets) and its bytes, per dtype and device.
  std::map<std::pair<torch::ScalarType, std::string>, std::pair<std::size_t, std::int64_t>> open;
  for (std::size_t i = params.size(); i-- > 0;) {
    const torch::Tensor& p = params[i];
    const auto key = std::make_pair(p.scalar_type(), p.device().str());
    auto it = open.find(key);
    if (it == open.end()) {
      buckets.emplace_back();
      it = open.emplace(key, std::make_pair(buckets.size() - 1, std::int64_t{0})).first;
    }
    buckets[it->second.first].push_back(i);
    it->second.second += p.numel() * p.element_size();
    if (it->second.second >= bucket_bytes) open.erase(it);
  }
  return buckets;
}

GradientSynchronizer::GradientSynchronizer(std::shared_ptr<ProcessGroup> group,
                                           std::vector<torch::Tensor> params,
                                           GradientSynchronizerOptions options)
    : group_(std::move(group)), params_(std::move(params)), options_(options) {
  KGREC_CHECK(group_ != nullptr, "GradientSynchronizer needs a process group");
  for (std::size_t i = 0; i < params_.size(); ++i) {
    KGREC_CHECK(params_[i].defined() && params_[i].is_leaf() && params_[i].requires_grad(),
                "parameter {} is not a leaf tensor that requires grad", i);
  }
  bucket_of_.resize(params_.size());
  index_in_bucket_.resize(params_.size());
  ready_.assign(params_.size(), false);
  for (std::vector<std::size_t>& members : assignBuckets(params_, options_.bucket_bytes)) {
    Bucket bucket;
    std::int64_t numel = 0;
    for (std::size_t i : members) {
      bucket_of_[i] = buckets_.size();
      index_in_bucket_[i] = bucket.offsets.size();
      bucket.offsets.push_back(numel);
      numel += params_[i].numel();
    }
    bucket.flat = torch::zeros({numel}, params_[members.front()].options().requires_grad(false));
    bucket.pending = members.size();
    bucket.params = std::move(members);
    buckets_.push_back(std::move(bucket));
  }
  broadcastParameters();

  // See Note [Hooking the gradient accumulator].
  for (std::size_t i = 0; i < params_.size(); ++i) {
    std::shared_ptr<torch::autograd::Node> accumulator =
        torch::autograd::impl::grad_accumulator(params_[i]);
    hook_keys_.push_back(accumulator->add_post_hook(
        std::make_unique<torch::autograd::utils::LambdaPostHook>(
            [this, i](const torch::autograd::variable_list& outputs,
                      const torch::autograd::variable_list&) {
              onGradientReady(i);
              return outputs;
            })));
    accumulators_.push_back(std::move(accumulator));
  }
}

GradientSynchronizer::~GradientSynchronizer() {
  for (std::size_t i = 0; i < accumulators_.size(); ++i) {
    accumulators_[i]->del_post_hook(hook_keys_[i]);
  }
}

torch::Tensor GradientSynchronizer::slot(const Bucket& bucket, std::size_t i) const {
  const torch::Tensor& p = params_[bucket.params[i]];
  return bucket.flat.narrow(0, bucket.offsets[i], p.numel()).view(p.sizes());
}

void GradientSynchronizer::broadcastParameters() {
  torch::NoGradGuard no_grad;
  for (Bucket& bucket : buckets_) {
    for (std::size_t i = 0; i < bucket.params.size(); ++i) {
      slot(bucket, i).copy_(params_[bucket.params[i]]);
    }
    group_->broadcast(bucket.flat, options_.root)->wait();
    for (std::size_t i = 0; i < bucket.params.size(); ++i) {
      params_[bucket.params[i]].copy_(slot(bucket, i));
    }
  }
}

void GradientSynchronizer::onGradientReady(std::size_t param) {
  std::lock_guard<std::mutex> lock(mutex_);
  KGREC_CHECK(!ready_[param],
              "parameter {} got a second gradient before finalize(): call finalize() after "
              "each backward",
              param);
  const torch::Tensor& grad = params_[param].grad();
  KGREC_CHECK(grad.defined() && grad.layout() == torch::kStrided,
              "parameter {} has no dense gradient (sparse gradients are not synchronised)", param);
  Bucket& bucket = buckets_[bucket_of_[param]];
  {
    torch::NoGradGuard no_grad;
    slot(bucket, index_in_bucket_[param]).copy_(grad);
  }
  ready_[param] = true;
  --bucket.pending;
  if (options_.overlap) launchReadyBuckets();
}

void GradientSynchronizer::launchReadyBuckets() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) {
    Bucket& bucket = buckets_[next_launch_++];
    bucket.work = group_->allReduce(bucket.flat, options_.reduce);
  }
}

void GradientSynchronizer::finalize() {
  std::lock_guard<std::mutex> lock(mutex_);
  torch::NoGradGuard no_grad;
  // Parameters that backward did not reach on this rank contribute zero.
  for (Bucket& bucket : buckets_) {
    for (std::size_t i = 0; i < bucket.params.size(); ++i) {
      if (!ready_[bucket.params[i]]) {
        slot(bucket, i).zero_();
        --bucket.pending;
      }
    }
  }
  launchReadyBuckets();
  for (Bucket& bucket : buckets_) {
    bucket.work->wait();
    bucket.work.reset();
    for (std::size_t i = 0; i < bucket.params.size(); ++i) {
      torch::Tensor& p = params_[bucket.params[i]];
      if (p.grad().defined()) {
        p.mutable_grad().copy_(slot(bucket, i));
      } else {
        p.mutable_grad() = slot(bucket, i).clone();
      }
    }
    bucket.pending = bucket.params.size();
  }
  ready_.assign(params_.size(), false);
  next_launch_ = 0;
}

}  // namespace kgrec
