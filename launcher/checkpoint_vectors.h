#pragma once
// A trained checkpoint's final vectors by node type, with the dataset they belong to (its
// original ids, texts and splits): what recommend, similar, export and the demo start from.

#include <string>

#include <CLI/CLI.hpp>
#include <torch/types.h>

#include "comm/process_group.h"
#include "engine/graph/dataset.h"

namespace kgrec {

struct CheckpointVectors {
  Dataset dataset;  // the dataset file the run trained on
  // [count, dim] each, row = local index of the type; a user-item score is their inner product.
  // A graph filter has no entity vectors (0 rows).
  torch::Tensor users, items, entities;
  // What the vectors are: "final node vectors", or for a graph filter "spectral factors of
  // rank k" (GraphFilter::spectralFactors: inner products approximate its scores).
  std::string kind;
};

// Collective over `group`: every rank reads the dataset, rank 0 alone loads the model and
// propagates over the whole graph (engine/train/checkpoint_model.h), and broadcasts the
// vectors; a graph filter's factors are computed on every rank. FormatError for a folder
// that is no complete checkpoint.
CheckpointVectors loadCheckpointVectors(const std::string& checkpoint_dir, ProcessGroup& group);

// A subcommand of `app` whose first argument is a checkpoint folder, bound to `checkpoint_dir`.
CLI::App* addCheckpointCommand(CLI::App& app, const std::string& name,
                               const std::string& description, std::string& checkpoint_dir);

}  // namespace kgrec
