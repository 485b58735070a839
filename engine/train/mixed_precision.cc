#include "engine/train/mixed_precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "engine/common/error.h"

namespace kgrec {
namespace {

// LibTorch 2.x names autocast's switches by device type; 1.13 has one pair per device.
bool autocastEnabled(torch::DeviceType type) {
#if TORCH_VERSION_MAJOR >= 2
  return at::autocast::is_autocast_enabled(type);
#else
  return type == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

void setAutocastEnabled(torch::DeviceType type, bool enabled) {
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (type == torch::kCUDA) {
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

torch::ScalarType autocastDtypeOf(torch::DeviceType type) {
#if TORCH_VERSION_MAJOR >= 2
  return at::autocast::get_autocast_dtype(type);
#else
  return type == torch::kCUDA ? at::autocast::get_autocast_gpu_dtype()
                              : at::autocast::get_autocast_cpu_dtype();
#endif
}

void setAutocastDtype(torch::DeviceType type, torch::ScalarType dtype) {
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (type == torch::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

}  // namespace

c10::optional<torch::ScalarType> autocastDtype(const std::string& precision,
                                               const torch::Device& device) {
  if (precision == "fp32") return c10::nullopt;
  if (precision == "bf16") return torch::kBFloat16;
  if (precision == "fp16") {
    if (!device.is_cuda()) {
      throw ConfigError("--precision fp16 needs --device cuda: LibTorch's CPU autocast runs "
                        "bf16 only; use --precision bf16 (or fp32) on the CPU");
    }
    return torch::kHalf;
  }
  throw ConfigError(fmt::format("--precision {}: expected fp32, bf16 or fp16", precision));
}

AutocastScope::AutocastScope(const torch::Device& device, c10::optional<torch::ScalarType> dtype) {
  if (!dtype) return;
  active_ = true;
  device_type_ = device.type();
  was_enabled_ = autocastEnabled(device_type_);
  previous_dtype_ = autocastDtypeOf(device_type_);
  setAutocastDtype(device_type_, *dtype);
  setAutocastEnabled(device_type_, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // The last scope to leave frees the cached half copies of the weights.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  setAutocastEnabled(device_type_, was_enabled_);
  setAutocastDtype(device_type_, previous_dtype_);
}

LossScaler::LossScaler(bool enabled, Options options)
    : enabled_(enabled), options_(options), scale_(enabled ? options.initial_scale : 1.0) {
  KGREC_CHECK(options_.initial_scale >= options_.min_scale && options_.min_scale > 0 &&
                  options_.growth_interval > 0,
              "LossScaler: initial scale {} min {} growth interval {}", options_.initial_scale,
              options_.min_scale, options_.growth_interval);
}

void LossScaler::restore(double scale, std::int64_t finite_steps) {
  if (!enabled_) return;
  KGREC_CHECK(scale >= options_.min_scale && finite_steps >= 0,
              "LossScaler: restored scale {} and finite steps {}", scale, finite_steps);
  scale_ = scale;
  finite_steps_ = finite_steps;
}

torch::Tensor LossScaler::scaleLoss(const torch::Tensor& loss) const {
  return enabled_ ? loss * scale_ : loss;
}

bool LossScaler::unscale(const std::vector<torch::Tensor>& grads) const {
  if (!enabled_) return true;
  std::vector<torch::Tensor> finite;  // per gradient, on its device
  for (const torch::Tensor& g : grads) {
    if (!g.defined()) continue;
    g.div_(scale_);
    finite.push_back(torch::isfinite(g).all());
  }
  // One device-to-host read for all of them, once per step.
  return finite.empty() || torch::stack(finite).all().item<bool>();
}

void LossScaler::update(bool all_finite) {
  if (!enabled_) return;
  if (!all_finite) {
    scale_ = std::max(options_.min_scale, scale_ / 2.0);
    finite_steps_ = 0;
  } else if (++finite_steps_ == options_.growth_interval) {
    scale_ *= 2.0;
    finite_steps_ = 0;
  }
}

}  // namespace kgrec
