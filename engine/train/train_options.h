#pragma once
// Everything `kgrec train` can be asked, grouped by concern. The launcher binds its flags to
// these fields; the trainer resolves the defaults that depend on other options and validates
// the whole once (resolveTrainOptions); a checkpoint records them as JSON.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kgrec {

struct ModelOptions {
  // lightgcn | sage | rgcn | kgat (models/block_gnn.h) | graph-filter (training-free,
  // models/graph_filter.h: fitted in closed form instead of epochs, FilterOptions)
  std::string name = "lightgcn";
  std::int64_t dim = 64;
  std::int64_t layers = 3;
  std::string features = "id";  // id | lm | both: layer-0 input of items and entities
  // Which relations propagation uses: "all" (interactions and every KG relation, with their
  // reverses) or "interactions" (user-item edges only, the LightGCN paper's graph).
  std::string relations = "all";
  std::int64_t bases = 0;  // rgcn basis matrices per layer; 0: min(8, relations)
};

struct SamplingOptions {
  // "full": every layer over the whole graph, each rank computing its own nodes' rows and
  // fetching its halo's rows from their owners; "sampled": per-relation fanouts into blocks.
  // "auto": full for lightgcn (no weights: the whole graph costs little), sampled otherwise.
  std::string propagation = "auto";
  std::vector<std::int64_t> fanouts;  // sampled: per layer, nearest hop first; empty: 10 each
  // sampled: own per-layer budgets for relations by name (the others share `fanouts`): a key
  // names one relation or a group sharing one budget, "name+name", where "interactions" and
  // "kg" stand for the interaction relations and for every KG relation (reverses included).
  std::map<std::string, std::vector<std::int64_t>> relation_fanouts;
  bool replace = false;        // sampled: neighbours with replacement
  std::int64_t negatives = 1;  // negative items per (user, positive)
  // sampled, per rank; with neighbours from other ranks, each thread samples its share of the
  // steps over a communicator of its own.
  int threads = 1;
  // sampled: false = neighbours of nodes owned elsewhere are not drawn (local part + halo
  // only): no sampling traffic, but the batches then depend on the partition.
  bool remote_neighbours = true;
  std::int64_t queue_batches = 4;  // batches sampled ahead of the training step
};

struct OptimOptions {
  std::int64_t epochs = 10;
  std::int64_t batch_size = 2048;  // global: (user, positive) seeds per step over all ranks
  double lr = 0.001;
  double l2 = 1e-4;
  // kgat's TransR loss on KG triples: "alternate" (steps of its own after each epoch's BPR
  // steps, KGAT's schedule), "sum" (added to every BPR step), "off". Empty: alternate for
  // kgat, off for the others (they have no KG loss).
  std::string kg_loss;
  std::int64_t kg_batch_size = 0;  // global triples per KG step (alternate); 0: batch_size
  std::uint64_t seed = 2020;
  // fp32 | bf16 | fp16: the model's compute precision (engine/train/mixed_precision.h);
  // weights and optimizer state stay fp32.
  std::string precision = "fp32";
};

// The training objective (docs/objectives.md): the loss on a batch's (user, positive,
// negatives), an optional self-supervised regulariser, and the ID embeddings' initialisation.
struct ObjectiveOptions {
  // bpr: softplus(s(u, n) - s(u, p)) per negative; softmax: sampled softmax / InfoNCE of the
  // positive against the global batch's other positives and the sampled negatives; ccl:
  // SimpleX's cosine contrastive loss.
  std::string loss = "bpr";
  // dot | cosine: s(u, i) of softmax. Empty: dot for bpr, cosine for softmax and ccl (the
  // only ones they take).
  std::string similarity;
  double temperature = 0.2;      // softmax: logits s / temperature
  double margin = 0.4;           // ccl: negatives count only above this cosine
  double negative_weight = 1.0;  // ccl: weight of the negatives' mean term
  // none | simgcl: InfoNCE between two noise-perturbed views of the propagation.
  std::string ssl = "none";
  double ssl_weight = 0.01;
  double ssl_eps = 0.1;          // norm of the noise added to every layer's rows
  double ssl_temperature = 0.2;
  // normal: N(0, 0.1^2) rows; svd: users' and items' rows from the top singular vectors of
  // the normalised interaction matrix (entities keep normal rows).
  std::string init = "normal";
};

struct RunOptions {
  std::string input;  // a dataset file (one process) or a partition folder (one rank per part)
  std::string device = "cpu";
  std::int64_t eval_every = 1;  // 0: evaluate only after the last epoch
  std::vector<std::int64_t> ks = {20};
  std::string metrics_out;  // JSON lines, written by rank 0; empty: none
  // Checkpoint folder: written at the end, every `checkpoint_every` epochs, and when the run is
  // asked to stop (TrainHooks). Empty: none.
  std::string checkpoint_dir;
  std::int64_t checkpoint_every = 0;
  std::string resume_dir;  // continue a run from its checkpoint; empty: start afresh
  bool quiet = false;      // no progress lines
};

struct CommOptions {
  // auto: the local group for one process; else MPI on CPU ranks, and with --device cuda NCCL
  // for CUDA tensors beside MPI for host tensors (comm/host_device_process_group.h, chosen by
  // the launcher). mpi: MPI for every tensor (CUDA ones staged through host memory). nccl: as
  // auto with cuda.
  std::string backend = "auto";
};

// --model graph-filter: a named preset of models/graph_filter.h and a few overrides of it.
struct FilterOptions {
  std::string preset = "bspm";  // gf-cf | turbo-cf | bspm | chebycf
  double ideal_weight = -1.0;   // alpha of the low-rank ideal part; < 0: the preset's
  std::int64_t rank = 0;        // rank of the ideal part; 0: the preset's
  std::vector<double> coefficients;  // f's coefficients in the preset's basis; empty: preset's
  std::vector<double> sharpen;       // g's power-basis coefficients; empty: the preset's
  std::string item_matrix = "auto";  // auto | dense | factored
  std::string higher_powers = "auto";  // auto | exact | low-rank
};

struct TrainOptions {
  ModelOptions model;
  FilterOptions filter;
  SamplingOptions sampling;
  OptimOptions optim;
  ObjectiveOptions objective;
  RunOptions run;
  CommOptions comm;
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ModelOptions, name, dim, layers, features,
                                                relations, bases)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SamplingOptions, propagation, fanouts,
                                                relation_fanouts, replace, negatives, threads,
                                                remote_neighbours, queue_batches)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(OptimOptions, epochs, batch_size, lr, l2,
                                                kg_loss, kg_batch_size, seed, precision)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ObjectiveOptions, loss, similarity, temperature,
                                                margin, negative_weight, ssl, ssl_weight, ssl_eps,
                                                ssl_temperature, init)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RunOptions, input, device, eval_every, ks,
                                                metrics_out, checkpoint_dir, checkpoint_every,
                                                resume_dir, quiet)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CommOptions, backend)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(FilterOptions, preset, ideal_weight, rank,
                                                coefficients, sharpen, item_matrix, higher_powers)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrainOptions, model, filter, sampling, optim,
                                                objective, run, comm)

// The options with every "auto"/empty default resolved (propagation, fanouts, kg_loss,
// kg_batch_size, similarity), checked as a whole: ConfigError naming the flag for any bad value or
// combination. What depends on the data (relations present, KG triples) is checked by the
// trainer.
TrainOptions resolveTrainOptions(TrainOptions options);

// The options that decide a run's trajectory (model, sampling, optimisation and objective,
// except the epoch count and the sampling threads): a resumed run must have the checkpoint's.
nlohmann::json trajectoryOptions(const TrainOptions& options);

}  // namespace kgrec
