#pragma once
// --precision fp32|bf16|fp16: the model's forward (and so its backward) under LibTorch's
// autocast in bf16 or fp16, while the parameters, the ID-embedding rows, their gradients and
// every optimizer state stay fp32 (autocast casts per operation and stores nothing in half),
// and the losses are computed in fp32. fp16's narrow range needs loss scaling (LossScaler);
// bf16 has fp32's range and does not.
//
// What autocast reaches: the dense products of the models' layers (sage's and rgcn's linear
// maps, kgat's attention and bi-interaction, the LM adapter). LightGCN's propagation is sparse
// products and sums, which autocast leaves in fp32, so --precision changes nothing for it.

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace kgrec {

// The autocast dtype of `precision` ("fp32": none). ConfigError for an unknown name, and for
// fp16 on the CPU (LibTorch's CPU autocast runs bf16 only).
c10::optional<torch::ScalarType> autocastDtype(const std::string& precision,
                                               const torch::Device& device);

// RAII: autocast on for `device`'s type in `dtype` while alive (nothing without a dtype); the
// previous state is restored and the cast cache cleared on exit.
class AutocastScope {
 public:
  AutocastScope(const torch::Device& device, c10::optional<torch::ScalarType> dtype);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  torch::DeviceType device_type_ = torch::kCPU;
  bool was_enabled_ = false;
  torch::ScalarType previous_dtype_ = torch::kFloat32;
};

// Dynamic loss scaling for fp16 (a disabled scaler is the identity and always steps). The
// loss is multiplied by scale() before backward; once the gradients are complete, unscale()
// divides them and reports whether they are finite; the caller agrees on that with every rank
// (the dense gradients are identical after the all-reduce, the ID rows' are not), skips the
// step when any rank saw an overflow, and calls update(), which halves the scale after an
// overflow and doubles it after `growth_interval` finite steps in a row.
class LossScaler {
 public:
  struct Options {
    double initial_scale = 65536.0;
    std::int64_t growth_interval = 2000;
    double min_scale = 1.0;
  };
  explicit LossScaler(bool enabled, Options options);
  explicit LossScaler(bool enabled = false) : LossScaler(enabled, Options()) {}

  bool enabled() const { return enabled_; }
  double scale() const { return scale_; }
  std::int64_t finiteSteps() const { return finite_steps_; }
  // A checkpointed scaler's state (a resumed run continues with it).
  void restore(double scale, std::int64_t finite_steps);

  torch::Tensor scaleLoss(const torch::Tensor& loss) const;
  // Divides the defined tensors of `grads` by scale() in place; true when every value is
  // finite. Without scaling: true, nothing touched.
  bool unscale(const std::vector<torch::Tensor>& grads) const;
  // After every step, with the all-ranks verdict of unscale().
  void update(bool all_finite);

 private:
  bool enabled_;
  Options options_;
  double scale_;
  std::int64_t finite_steps_ = 0;
};

}  // namespace kgrec
