#pragma once
// kgrec's one checkpoint format, for every model, propagation mode and rank count: a folder
//   model.pt          the dense weights (torch::save of the BlockGnn)
//   id_embedding.pt   the whole ID-embedding table by global id [nodes, dim]
//   rank-R.pt         rank R's resumable state: its ID rows with their Adam state, the dense
//                     optimizers, the epoch totals so far
//   checkpoint.json   the manifest, written last (a folder without it is never loaded)
// Each file is written to a temporary sibling and renamed (engine/common/atomic_output.h).

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/train/train_options.h"

namespace kgrec {

constexpr const char* kCheckpointKind = "kgrec-checkpoint";
constexpr int kCheckpointVersion = 3;

struct CheckpointManifest {
  std::int64_t epoch = 0;      // 0-based epoch the state is in
  std::int64_t next_step = 0;  // the step of `epoch` to run next
  bool finished = false;       // `epoch` is complete: resume at the next one
  int ranks = 1;
  std::string dataset;  // the dataset file the run's data came from
  std::int64_t feature_dim = 0;
  std::int64_t num_relations = 0;
  TrainOptions options;
  nlohmann::json metrics;  // of the latest evaluation
  // --precision fp16's loss scaler (engine/train/mixed_precision.h); 1 and 0 without one.
  double loss_scale = 1.0;
  std::int64_t loss_scale_finite_steps = 0;
};

std::string checkpointManifestPath(const std::string& dir);
std::string rankStateFile(const std::string& dir, int rank);

// FormatError when `dir` holds no manifest (an incomplete checkpoint, or none), a malformed
// one, or one of another format or version, saying what to do.
CheckpointManifest readCheckpointManifest(const std::string& dir);
void writeCheckpointManifest(const std::string& dir, const CheckpointManifest& manifest);

}  // namespace kgrec
