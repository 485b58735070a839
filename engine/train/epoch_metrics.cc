#include "engine/train/epoch_metrics.h"

#include <algorithm>

#include "comm/process_group.h"
#include "engine/common/error.h"

namespace kgrec {
namespace {

// Every field, named once: the tensor layout follows this list (new fields go last).
template <typename Totals, typename Visit>
void forEachField(Totals& t, Visit visit) {
  for (auto* field : {&t.loss_sum, &t.seeds, &t.kg_loss_sum, &t.kg_triples, &t.id_bytes,
                      &t.feature_bytes, &t.halo_bytes, &t.sample_bytes, &t.sampled_edges,
                      &t.sample_wait, &t.exchange, &t.compute, &t.allreduce, &t.ssl_loss_sum}) {
    visit(*field);
  }
}

}  // namespace

torch::Tensor EpochTotals::toTensor() const {
  std::vector<double> values;
  forEachField(*this, [&](const double& v) { values.push_back(v); });
  return torch::tensor(values, torch::kFloat64);
}

EpochTotals EpochTotals::fromTensor(const torch::Tensor& tensor) {
  EpochTotals t;
  const torch::Tensor cpu = tensor.to(torch::kCPU, torch::kFloat64).contiguous();
  std::int64_t fields = 0;
  forEachField(t, [&](double&) { ++fields; });
  // Fields appended since the checkpoint was written stay 0.
  constexpr std::int64_t kFirstLayoutFields = 13;
  if (cpu.dim() != 1 || cpu.size(0) > fields || cpu.size(0) < kFirstLayoutFields) {
    throw FormatError(fmt::format("epoch totals have {} values, this kgrec expects {}",
                                  cpu.numel(), fields));
  }
  const double* v = cpu.data_ptr<double>();
  const double* end = v + cpu.numel();
  forEachField(t, [&](double& field) { if (v != end) field = *v++; });
  return t;
}

nlohmann::json epochMetricsLine(ProcessGroup& group, std::int64_t epoch, const EpochTotals& totals,
                                double seconds, std::int64_t steps, std::int64_t dense_bytes,
                                bool has_kg_loss, bool has_ssl_loss) {
  torch::Tensor summed = totals.toTensor();
  group.allReduce(summed)->wait();
  const EpochTotals sum = EpochTotals::fromTensor(summed);
  const double world = group.size();
  nlohmann::json line = {
      {"epoch", epoch},
      {"ranks", group.size()},
      {"loss", sum.loss_sum / std::max(1.0, sum.seeds)},
      {"epoch_seconds", seconds},
      {"steps", steps},
      {"examples_per_second", sum.seeds / seconds},
      {"edges_per_second", sum.sampled_edges / seconds},
      {"bytes_per_rank",
       {{"embedding_exchange", sum.id_bytes / world},
        {"feature_exchange", sum.feature_bytes / world},
        {"halo_exchange", sum.halo_bytes / world},
        {"neighbour_requests", sum.sample_bytes / world},
        // A ring all-reduce sends 2 (P - 1) / P of the payload per rank.
        {"allreduce", world > 1 ? 2.0 * (world - 1) / world * dense_bytes * steps : 0.0}}},
      {"seconds_per_rank",
       {{"sample_wait", sum.sample_wait / world},
        {"exchange", sum.exchange / world},
        {"compute", sum.compute / world},
        {"allreduce", sum.allreduce / world}}}};
  if (has_kg_loss) line["kg_loss"] = sum.kg_loss_sum / std::max(1.0, sum.kg_triples);
  if (has_ssl_loss) line["ssl_loss"] = sum.ssl_loss_sum / std::max(1.0, sum.seeds);
  return line;
}

}  // namespace kgrec
