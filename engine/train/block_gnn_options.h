#pragma once
// The BlockGnn that a run's model options describe: the trainer builds it, and a checkpoint is
// loaded back into the same shape (engine/train/checkpoint_model.h).

#include <cstdint>

#include "engine/train/train_options.h"
#include "models/block_gnn.h"

namespace kgrec {

// The model of `o.model`, with unit output rows when the objective scores by cosine.
BlockGnnOptions blockGnnOptions(const TrainOptions& o, std::int64_t feature_dim,
                                std::int64_t num_relations);

}  // namespace kgrec
