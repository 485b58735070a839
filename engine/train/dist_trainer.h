#pragma once
// Data-parallel training over partition shards, one rank per part (`mpirun -np P kgrec train
// PARTS/`): every rank samples mini-batches from its own part's training interactions
// (neighbours of other parts' nodes are drawn by their owners), fetches the ID-embedding rows
// and LM features its batch needs from their owners, runs a BlockGnn, all-reduces the dense
// gradients in buckets that overlap backward, and pushes the embedding rows' gradients back to
// their owners. The global batch of a step does not depend on the number of ranks, so P = 1,
// 2, 4 follow the same trajectory (docs/distributed.md).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kgrec {

struct DistTrainOptions {
  std::string parts_dir;
  std::string model = "lightgcn";  // lightgcn | sage | rgcn | kgat
  std::int64_t bases = 0;          // rgcn basis matrices per layer; 0: min(8, relations)
  // kgat's TransR loss on KG triples: "sum" adds it to every step's BPR loss, "alternate"
  // gives it steps of its own after each epoch's BPR steps (KGAT's schedule), "off" drops it.
  // Empty: alternate for kgat, off otherwise (the other models have no KG loss).
  std::string kg_loss;
  std::int64_t kg_batch_size = 0;  // global triples per KG step (alternate); 0: batch_size
  std::string features = "id";     // id | lm | both: layer-0 input of items and entities
  std::int64_t epochs = 10;
  std::int64_t batch_size = 2048;  // global: (user, positive) seeds per step over all ranks
  std::int64_t dim = 64;
  std::int64_t layers = 3;
  std::vector<std::int64_t> fanouts;  // per layer, nearest hop first; empty: 10 per layer
  // Own per-layer budgets for relations by name (the others share `fanouts`): a key names one
  // relation or a group sharing one budget, "name+name", where "interactions" and "kg" stand
  // for the interaction relations and for every KG relation (reverses included).
  std::map<std::string, std::vector<std::int64_t>> relation_fanouts;
  bool replace = false;  // sample neighbours with replacement
  std::int64_t negatives = 1;
  double lr = 0.001;
  double l2 = 1e-4;
  std::uint64_t seed = 2020;
  std::int64_t eval_every = 1;  // 0: evaluate only after the last epoch
  std::vector<std::int64_t> ks = {20};
  // Per rank; with neighbours from other ranks, each thread samples its share of the steps
  // over a communicator of its own (the same on every rank, as the option is).
  int sampler_threads = 1;
  // false: neighbours of nodes owned elsewhere are not drawn (local part + halo only); no
  // sampling traffic, but the batches then depend on the partition (docs/sampler.md).
  bool remote_neighbours = true;
  std::string backend = "auto";   // auto | mpi | nccl (gradients and exchanges)
  std::int64_t queue_batches = 4;  // batches sampled ahead of the training step
  std::string metrics_out;         // JSON lines, written by rank 0; empty: none
  // Checkpoint folder: written at the end, every `checkpoint_every` epochs, and when SIGTERM or
  // SIGUSR1 arrives (then the run stops at the next step, after writing it). Empty: none.
  std::string checkpoint_dir;
  std::int64_t checkpoint_every = 0;
  std::string resume_dir;  // continue a run from its checkpoint; empty: start afresh
  bool quiet = false;
};

nlohmann::json toJson(const DistTrainOptions& options);
DistTrainOptions distTrainOptionsFromJson(const nlohmann::json& json);

struct DistTrainResult {
  std::vector<nlohmann::json> epochs;  // the metrics lines, the same on every rank
  nlohmann::json final_metrics;
  bool stopped = false;  // a stop signal ended the run early, after writing a checkpoint
};

// Collective over MPI_COMM_WORLD: rank r trains part r of options.parts_dir. ConfigError on
// every rank (before any collective) when the world size is not the part count. A resumed
// run ends with exactly the parameters and metrics of one that was never stopped.
DistTrainResult trainDistributed(const DistTrainOptions& options);

// True when `dir` holds a checkpoint written by trainDistributed.
bool isDistCheckpoint(const std::string& dir);
// Recomputes the metrics of such a checkpoint in this one process, over the whole dataset
// the parts were cut from (the single-process evaluation of the same model).
nlohmann::json evaluateDistCheckpoint(const std::string& dir, std::vector<std::int64_t> ks = {});

}  // namespace kgrec
