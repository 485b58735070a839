#pragma once
// kgrec's one trainer: BPR (and kgat's TransR) training of a BlockGnn on one process or P
// ranks, by sampled blocks or full-graph propagation, over any ProcessGroup. Every rank trains
// its part of the graph (a dataset file is one part); the global batch of a step does not
// depend on P, the dense gradients are all-reduced and the ID-embedding rows live with their
// owners, so P = 1, 2, 4 follow the same trajectory (docs/distributed.md). Rank 0 writes the
// metrics lines (docs/metrics_lines.md) and the checkpoint (engine/train/checkpoint.h).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "comm/process_group.h"
#include "engine/train/train_options.h"

namespace kgrec {

// How the process that runs the trainer talks to it (signals and watchdogs are the
// launcher's): polled at every step boundary, a stop request makes every rank write the
// checkpoint (--ckpt) and return early at the same step.
struct TrainHooks {
  std::function<bool()> stop_requested;  // empty: never
  std::function<void()> stop_agreed;     // called once the ranks agreed to stop
};

struct TrainResult {
  std::vector<nlohmann::json> epochs;  // the metrics lines, the same on every rank
  nlohmann::json final_metrics;        // of the last evaluation
  nlohmann::json popularity_metrics;   // the popularity baseline, by the same evaluation
  bool stopped = false;  // a stop request ended the run early, after writing the checkpoint
};

class GraphFilterTrainer;

class Trainer {
 public:
  // Collective over `group`: loads this rank's part of options.run.input, builds the model,
  // samplers and exchanges. ConfigError (on every rank, before any collective) for bad
  // options or a part count that is not the group's size.
  Trainer(const TrainOptions& options, std::shared_ptr<ProcessGroup> group, TrainHooks hooks = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Collective: trains (resuming from options.run.resume_dir when given) and evaluates. A
  // resumed run ends with exactly the parameters and metrics of one that was never stopped.
  TrainResult run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<GraphFilterTrainer> filter_;  // --model graph-filter instead of impl_
};

// Recomputes the metrics of a checkpoint in this one process, over the whole dataset the run
// trained on (whatever its rank count and propagation mode), with the popularity baseline's
// under "popularity_baseline". `exposure_out`: also writes the per-item exposure table there
// (engine/eval/exposure_table.h).
nlohmann::json evaluateCheckpoint(const std::string& dir, std::vector<std::int64_t> ks = {},
                                  const std::string& exposure_out = "");

}  // namespace kgrec
