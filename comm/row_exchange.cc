#include "comm/row_exchange.h"

#include <algorithm>
#include <tuple>

#include <torch/autograd.h>

#include "engine/common/error.h"

namespace kgrec {

BlockOwnership::BlockOwnership(std::int64_t num_rows, int parts) : num_rows_(num_rows) {
  KGREC_CHECK(num_rows >= 0 && parts > 0, "block ownership of {} rows over {} parts", num_rows,
              parts);
  block_ = std::max<std::int64_t>(1, (num_rows + parts - 1) / parts);
}

int BlockOwnership::owner(std::int64_t global) const {
  KGREC_CHECK(global >= 0 && global < num_rows_, "row id {} outside [0, {})", global, num_rows_);
  return static_cast<int>(global / block_);
}

std::int64_t BlockOwnership::localRow(std::int64_t global) const { return global % block_; }

std::int64_t BlockOwnership::localRows(int part) const {
  const std::int64_t begin = std::min(num_rows_, part * block_);
  return std::min(num_rows_, begin + block_) - begin;
}

RowExchange::RowExchange(std::shared_ptr<ProcessGroup> group,
                         std::shared_ptr<const RowOwnership> ownership)
    : group_(std::move(group)), ownership_(std::move(ownership)) {
  KGREC_CHECK(group_ != nullptr && ownership_ != nullptr,
              "RowExchange needs a process group and an ownership map");
}

RowRequest RowExchange::plan(const torch::Tensor& ids) const {
  KGREC_CHECK(ids.dim() == 1 && ids.scalar_type() == torch::kLong,
              "row ids must be a 1-d int64 tensor, got {}-d {}", ids.dim(),
              c10::toString(ids.scalar_type()));
  const int size = group_->size();
  RowRequest request;
  if (size == 1) {
    // No sort, no de-duplication, no collective: a fetch is one index_select.
    const torch::Tensor cpu_ids = ids.cpu().contiguous();
    const std::int64_t n = cpu_ids.size(0);
    const std::int64_t* global = cpu_ids.data_ptr<std::int64_t>();
    request.local = true;
    request.served_rows = torch::empty({n}, torch::kLong);
    std::int64_t* rows = request.served_rows.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < n; ++i) {
      KGREC_CHECK(ownership_->owner(global[i]) == 0, "row {} is owned by rank {} in a group of 1",
                  global[i], ownership_->owner(global[i]));
      rows[i] = ownership_->localRow(global[i]);
    }
    request.send_counts = request.serve_counts = {n};
    return request;
  }
  torch::Tensor distinct, inverse;
  std::tie(distinct, inverse) = torch::_unique(ids.cpu(), /*sorted=*/true, /*return_inverse=*/true);
  const std::int64_t n = distinct.size(0);
  const std::int64_t* global = distinct.data_ptr<std::int64_t>();

  // Group the distinct ids by owner (a counting sort): count, prefix sum, place.
  std::vector<int> owners(n);
  request.send_counts.assign(size, 0);
  for (std::int64_t i = 0; i < n; ++i) {
    owners[i] = ownership_->owner(global[i]);
    KGREC_CHECK(owners[i] >= 0 && owners[i] < size, "row {} is owned by rank {}, not in a group of {}",
                global[i], owners[i], size);
    ++request.send_counts[owners[i]];
  }
  std::vector<std::int64_t> next(size, 0);
  for (int r = 1; r < size; ++r) next[r] = next[r - 1] + request.send_counts[r - 1];
  torch::Tensor send_rows = torch::empty({n}, torch::kLong);
  torch::Tensor position = torch::empty({n}, torch::kLong);  // distinct id -> send position
  std::int64_t* rows = send_rows.data_ptr<std::int64_t>();
  std::int64_t* pos = position.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    pos[i] = next[owners[i]]++;
    rows[pos[i]] = ownership_->localRow(global[i]);
  }
  request.inverse = position.index_select(0, inverse.reshape({-1}));

  RankRows served = group_->allToAllV(send_rows, request.send_counts)->result();
  request.served_rows = served.tensor;
  request.serve_counts = std::move(served.counts);
  return request;
}

torch::Tensor RowExchange::fetch(const RowRequest& request, const torch::Tensor& local_table) const {
  KGREC_CHECK(local_table.dim() >= 1, "the local table must be [rows, ...]");
  const torch::Tensor device = request.served_rows.to(local_table.device());
  if (request.local) return local_table.index_select(0, device);
  torch::Tensor outgoing = local_table.index_select(0, device);
  torch::Tensor received = group_->allToAllV(outgoing, request.serve_counts)->result().tensor;
  return received.index_select(0, request.inverse.to(received.device()));
}

void RowExchange::pushGradients(const RowRequest& request, const torch::Tensor& row_grads,
                                torch::Tensor& local_grad) const {
  const std::int64_t requested =
      request.local ? request.served_rows.size(0) : request.inverse.size(0);
  KGREC_CHECK(row_grads.dim() >= 1 && row_grads.size(0) == requested,
              "{} gradient rows for {} requested ids", row_grads.dim() ? row_grads.size(0) : 0,
              requested);
  if (request.local) {
    local_grad.index_add_(0, request.served_rows.to(local_grad.device()),
                          row_grads.to(local_grad.device()));
    return;
  }
  std::int64_t distinct = 0;
  for (std::int64_t c : request.send_counts) distinct += c;
  // Repeats of an id are summed here, so each distinct row travels once.
  std::vector<std::int64_t> shape = row_grads.sizes().vec();
  shape[0] = distinct;
  torch::Tensor outgoing = torch::zeros(shape, row_grads.options());
  outgoing.index_add_(0, request.inverse.to(row_grads.device()), row_grads);
  torch::Tensor received = group_->allToAllV(outgoing, request.send_counts)->result().tensor;
  local_grad.index_add_(0, request.served_rows.to(local_grad.device()),
                        received.to(local_grad.device()));
}

namespace {

// The request travels in the autograd context as tensors and counts, the exchange as its
// address (it outlives the backward by contract).
class FetchRows : public torch::autograd::Function<FetchRows> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor local_table,
                               const RowExchange* exchange, const RowRequest* request) {
    ctx->saved_data["exchange"] = reinterpret_cast<std::int64_t>(exchange);
    ctx->saved_data["local"] = request->local;
    ctx->saved_data["inverse"] = request->inverse;
    ctx->saved_data["served_rows"] = request->served_rows;
    ctx->saved_data["send_counts"] = request->send_counts;
    ctx->saved_data["serve_counts"] = request->serve_counts;
    ctx->saved_data["table_shape"] = local_table.sizes().vec();
    return exchange->fetch(*request, local_table);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto* exchange =
        reinterpret_cast<const RowExchange*>(ctx->saved_data["exchange"].toInt());
    RowRequest request;
    request.local = ctx->saved_data["local"].toBool();
    request.inverse = ctx->saved_data["inverse"].toTensor();
    request.served_rows = ctx->saved_data["served_rows"].toTensor();
    request.send_counts = ctx->saved_data["send_counts"].toIntVector();
    request.serve_counts = ctx->saved_data["serve_counts"].toIntVector();
    torch::Tensor local_grad =
        torch::zeros(ctx->saved_data["table_shape"].toIntVector(), grads[0].options());
    exchange->pushGradients(request, grads[0].contiguous(), local_grad);
    return {local_grad, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor RowExchange::fetchWithGradient(const RowRequest& request,
                                             const torch::Tensor& local_table) const {
  return FetchRows::apply(local_table, this, &request);
}

}  // namespace kgrec
