#pragma once
// A checkpoint loaded for inference in this one process, whatever rank count and propagation
// mode trained it: the whole dataset as one part, the model with its weights, the ID table,
// and full-graph propagation without gradient. `kgrec eval` evaluates it; `kgrec recommend`,
// `similar` and `export` use its final vectors.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "comm/local_process_group.h"
#include "engine/train/checkpoint.h"
#include "engine/train/full_graph_propagation.h"
#include "engine/train/training_data.h"
#include "models/block_gnn.h"

namespace kgrec {

class CheckpointModel {
 public:
  // FormatError for a folder that is no complete checkpoint (readCheckpointManifest); Error
  // when its ID table does not fit the dataset it names.
  explicit CheckpointModel(const std::string& dir);
  CheckpointModel(const CheckpointModel&) = delete;
  CheckpointModel& operator=(const CheckpointModel&) = delete;

  const CheckpointManifest& manifest() const { return manifest_; }

  // The metrics over every test user, at the cut-offs `ks` (empty: those of the run), with the
  // popularity baseline's under "popularity_baseline"; with `exposure_out`, also each item's
  // exposure in the model's and the baseline's top-K lists as a TSV (docs/metrics.md).
  nlohmann::json evaluate(std::vector<std::int64_t> ks, const std::string& exposure_out = {}) const;
  // Every node's final vector [num_nodes, outputDim] by global id (users | items | entities):
  // what the model scores a user-item pair with (their inner product).
  torch::Tensor nodeVectors() const;

 private:
  CheckpointManifest manifest_;
  std::shared_ptr<LocalProcessGroup> self_;
  TrainingData data_;  // the propagation keeps references into it: never moved
  BlockGnn model_{nullptr};
  std::unique_ptr<FullGraphPropagation> propagation_;
  torch::Tensor h0_;  // layer-0 rows of the nodes, by local id
};

}  // namespace kgrec
