#pragma once
// The BlockGnn that a run's model options describe: the trainer builds it, and a checkpoint is
// loaded back into the same shape (engine/train/checkpoint_model.h).

#include <cstdint>

#include "engine/train/train_options.h"
#include "models/block_gnn.h"

namespace kgrec {

BlockGnnOptions blockGnnOptions(const ModelOptions& o, std::int64_t feature_dim,
                                std::int64_t num_relations);

}  // namespace kgrec
