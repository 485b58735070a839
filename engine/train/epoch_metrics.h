#pragma once
// What an epoch sums on each rank, and the one metrics line every run writes per epoch
// (docs/metrics_lines.md gives its schema). The totals are part of a mid-epoch checkpoint, so
// that a resumed epoch reports what an uninterrupted one would.

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace kgrec {

class ProcessGroup;

struct EpochTotals {
  double loss_sum = 0;         // BPR loss summed over this rank's seeds
  double seeds = 0;            // (user, positive) seeds trained on
  double kg_loss_sum = 0;      // TransR loss summed over this rank's triples
  double kg_triples = 0;
  double id_bytes = 0;         // ID-embedding rows and gradients sent to other ranks
  double feature_bytes = 0;    // LM feature rows sent to other ranks
  double halo_bytes = 0;       // full-graph layer rows and gradients sent to other ranks
  double sample_bytes = 0;     // neighbour requests and answers sent to other ranks
  double sampled_edges = 0;    // edges of the blocks trained on (full graph: of every layer)
  double sample_wait = 0;      // seconds waiting for the next batch
  double exchange = 0;         // seconds fetching rows and pushing their gradients
  double compute = 0;          // seconds of forward and backward
  double allreduce = 0;        // seconds finishing the gradient all-reduce and stepping
  double ssl_loss_sum = 0;     // --ssl: the contrastive loss summed over this rank's seeds

  // The fields in a fixed order, for an all-reduce or a checkpoint, and back (a checkpoint
  // from before a field was appended reads it as 0).
  torch::Tensor toTensor() const;
  static EpochTotals fromTensor(const torch::Tensor& tensor);
};

// Collective: the metrics line of epoch `epoch` (numbered from 1) from every rank's totals.
// `dense_bytes` is the size of the all-reduced gradients of one step, `steps` the steps of
// the epoch. "kg_loss" and "ssl_loss" are in the line when the run has them.
nlohmann::json epochMetricsLine(ProcessGroup& group, std::int64_t epoch, const EpochTotals& totals,
                                double seconds, std::int64_t steps, std::int64_t dense_bytes,
                                bool has_kg_loss, bool has_ssl_loss = false);

}  // namespace kgrec
