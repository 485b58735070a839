#include "engine/train/sharded_embedding.h"

#include <cmath>

#include "engine/common/error.h"
#include "engine/common/random.h"

namespace kgrec {

void seededNormalRow(std::uint64_t seed, std::int64_t global, double std, float* out,
                     std::int64_t dim) {
  SplitMix64 rng(mixSeed(seed, static_cast<std::uint64_t>(global), 0x1d));
  // Box-Muller, two values per pair of uniforms; 1 - u keeps the logarithm finite.
  for (std::int64_t j = 0; j < dim; j += 2) {
    const double radius = std::sqrt(-2.0 * std::log(1.0 - rng.uniform()));
    const double angle = 2.0 * M_PI * rng.uniform();
    out[j] = static_cast<float>(std * radius * std::cos(angle));
    if (j + 1 < dim) out[j + 1] = static_cast<float>(std * radius * std::sin(angle));
  }
}

ShardedEmbedding::ShardedEmbedding(std::shared_ptr<ProcessGroup> group, const PartitionBook& book,
                                   std::int32_t part, std::int64_t dim, double init_std,
                                   std::uint64_t seed, SparseAdamOptions adam,
                                   torch::Device device)
    : exchange_(std::move(group), std::make_shared<PartitionBookOwnership>(book)), adam_(adam) {
  const std::int64_t rows = book.numOwned(part);
  // Drawn on the host, moved once (no copy on the CPU).
  table_ = torch::empty({rows, dim}, torch::kFloat32);
  float* data = table_.data_ptr<float>();
  for (std::int64_t local = 0; local < rows; ++local) {
    seededNormalRow(seed, book.globalId(part, local), init_std, data + local * dim, dim);
  }
  table_ = table_.to(device);
  grad_ = torch::zeros_like(table_);
  exp_avg_ = torch::zeros_like(table_);
  exp_avg_sq_ = torch::zeros_like(table_);
}

void ShardedEmbedding::save(torch::serialize::OutputArchive& archive) const {
  archive.write("table", table_.cpu());
  archive.write("exp_avg", exp_avg_.cpu());
  archive.write("exp_avg_sq", exp_avg_sq_.cpu());
  archive.write("steps", torch::tensor(steps_, torch::kInt64));
}

void ShardedEmbedding::load(torch::serialize::InputArchive& archive) {
  for (auto [name, tensor] : {std::pair{"table", &table_}, std::pair{"exp_avg", &exp_avg_},
                              std::pair{"exp_avg_sq", &exp_avg_sq_}}) {
    torch::Tensor saved;
    archive.read(name, saved);
    if (!saved.sizes().equals(tensor->sizes())) {
      throw FormatError(fmt::format("checkpoint embedding state '{}' is {}, this part needs {}",
                                    name, c10::str(saved.sizes()), c10::str(tensor->sizes())));
    }
    tensor->copy_(saved);
  }
  torch::Tensor steps;
  archive.read("steps", steps);
  steps_ = steps.item<std::int64_t>();
}

ShardedEmbedding::Rows ShardedEmbedding::fetch(const torch::Tensor& ids) const {
  Rows out;
  out.request = exchange_.plan(ids);
  out.rows = exchange_.fetch(out.request, table_).requires_grad_(true);
  bytes_sent_ += out.request.rowsServedToOthers(exchange_.rank()) * dim() * 4;
  return out;
}

ShardedEmbedding::Rows ShardedEmbedding::ownedRows() const {
  Rows out;
  out.all_owned = true;
  // The table itself as the step's leaf (no copy): step() updates it in place only after the
  // backward that read it.
  out.rows = table_.detach().requires_grad_(true);
  return out;
}

void ShardedEmbedding::step(const Rows& rows) {
  torch::NoGradGuard no_grad;
  const torch::Tensor grad =
      rows.rows.grad().defined() ? rows.rows.grad() : torch::zeros_like(rows.rows);
  // Every rank steps its counter, with or without rows asked of it, so that the bias
  // corrections stay the same on every rank (and the same as on one rank).
  ++steps_;
  const double bias1 = 1 - std::pow(adam_.beta1, static_cast<double>(steps_));
  const double bias2 = 1 - std::pow(adam_.beta2, static_cast<double>(steps_));
  if (rows.all_owned) {
    // Every row, in place: the same rule as below without gathering and scattering.
    exp_avg_.mul_(adam_.beta1).add_(grad, 1 - adam_.beta1);
    exp_avg_sq_.mul_(adam_.beta2).addcmul_(grad, grad, 1 - adam_.beta2);
    table_.sub_(exp_avg_.div(exp_avg_sq_.div(bias2).sqrt_().add_(adam_.eps)).mul_(adam_.lr / bias1));
    return;
  }
  exchange_.pushGradients(rows.request, grad, grad_);
  bytes_sent_ += rows.request.rowsAskedOfOthers(exchange_.rank()) * dim() * 4;
  const torch::Tensor touched =
      std::get<0>(torch::_unique(rows.request.served_rows)).to(table_.device());
  if (touched.numel() == 0) return;
  const torch::Tensor g = grad_.index_select(0, touched);
  const torch::Tensor m = exp_avg_.index_select(0, touched).mul_(adam_.beta1).add_(g, 1 - adam_.beta1);
  const torch::Tensor v =
      exp_avg_sq_.index_select(0, touched).mul_(adam_.beta2).addcmul_(g, g, 1 - adam_.beta2);
  exp_avg_.index_copy_(0, touched, m);
  exp_avg_sq_.index_copy_(0, touched, v);
  const torch::Tensor update = m.div(v.div(bias2).sqrt_().add_(adam_.eps)).mul_(adam_.lr / bias1);
  table_.index_add_(0, touched, update, -1.0);
  grad_.index_fill_(0, touched, 0.0);
}

}  // namespace kgrec
