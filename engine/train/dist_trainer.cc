#include "engine/train/dist_trainer.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <tuple>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include "comm/gradient_synchronizer.h"
#include "comm/mpi/mpi_check.h"
#include "comm/mpi/mpi_process_group.h"
#include "engine/common/atomic_output.h"
#include "engine/common/error.h"
#include "engine/eval/ranking_evaluator.h"
#include "engine/store/dataset_io.h"
#include "engine/train/sharded_embedding.h"
#include "models/block_gnn.h"
#include "partition/node_order.h"
#include "partition/partition_book.h"
#include "partition/shard.h"
#include "sampler/batch_pipeline.h"
#include "sampler/kg_triple_sampler.h"
#include "sampler/dist/dist_sampling.h"

namespace kgrec {
namespace {

constexpr const char* kDistCheckpointKind = "kgrec-dist-checkpoint";
constexpr int kDistCheckpointVersion = 2;
constexpr double kInitStd = 0.1;  // N(0, 0.1^2), as the LightGCN reference code

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void validate(const DistTrainOptions& o) {
  auto positive = [](std::int64_t v, const char* flag) {
    if (v <= 0) throw ConfigError(fmt::format("{} must be positive, got {}", flag, v));
  };
  positive(o.epochs, "--epochs");
  positive(o.batch_size, "--batch-size");
  positive(o.negatives, "--negatives");
  positive(o.queue_batches, "--queue");
  positive(o.sampler_threads, "--sampler-threads");
  if (!(o.lr > 0.0)) throw ConfigError(fmt::format("--lr must be positive, got {}", o.lr));
  if (o.l2 < 0.0) throw ConfigError(fmt::format("--l2 must be >= 0, got {}", o.l2));
  if (o.eval_every < 0) throw ConfigError("--eval-every must be >= 0");
  for (std::int64_t k : o.ks) positive(k, "--topk");
  if (o.backend == "nccl") {
    throw ConfigError("--backend nccl: this build trains on CPU ranks, where gradients go over "
                      "MPI; NCCL needs a CUDA build and --device cuda, which distributed "
                      "training does not support yet (use --backend mpi or auto)");
  }
  if (o.backend != "auto" && o.backend != "mpi") {
    throw ConfigError(fmt::format("--backend {}: expected auto, mpi or nccl", o.backend));
  }
  if (o.kg_batch_size < 0) throw ConfigError("--kg-batch-size must be >= 0");
  if (o.kg_loss != "off" && o.kg_loss != "sum" && o.kg_loss != "alternate") {
    throw ConfigError(fmt::format("--kg-loss {}: expected off, sum or alternate", o.kg_loss));
  }
  if (o.kg_loss != "off" && o.model != "kgat") {
    throw ConfigError(fmt::format("--kg-loss {}: only kgat has a KG loss (TransR on its relation "
                                  "embeddings); --model {} trains on interactions alone",
                                  o.kg_loss, o.model));
  }
  if (!o.fanouts.empty() && static_cast<std::int64_t>(o.fanouts.size()) != o.layers) {
    throw ConfigError(fmt::format("--fanouts gives {} values for {} layers: give one per layer",
                                  o.fanouts.size(), o.layers));
  }
}

nlohmann::json readJsonFile(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw FormatError(fmt::format("{}: cannot open {}", path, what));
  try {
    nlohmann::json j;
    in >> j;
    return j;
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(fmt::format("{}: malformed {}: {}", path, what, e.what()));
  }
}

// The relation ids of a --relation-fanouts group: names joined by '+', where "interactions"
// stands for the interaction relation and its reverse, and "kg" for every KG relation and its
// reverse. ConfigError naming the graph's relations for an unknown name.
std::vector<std::int32_t> relationIds(const std::string& group,
                                      const std::vector<std::string>& relation_names) {
  const auto count = static_cast<std::int32_t>(relation_names.size());
  std::vector<std::int32_t> ids;
  for (std::size_t start = 0; start <= group.size();) {
    const std::size_t end = std::min(group.find('+', start), group.size());
    const std::string name = group.substr(start, end - start);
    start = end + 1;
    if (name == "interactions") {
      ids.insert(ids.end(), {kRelInteract, kRelInteractReverse});
    } else if (name == "kg") {
      for (std::int32_t r = kgForwardRelation(0); r < count; ++r) ids.push_back(r);
    } else {
      const auto it = std::find(relation_names.begin(), relation_names.end(), name);
      if (it == relation_names.end()) {
        throw ConfigError(fmt::format(
            "--relation-fanouts {}: the graph has no relation {}; its relations are {} (or the "
            "groups interactions and kg)", group, name, fmt::join(relation_names, ", ")));
      }
      ids.push_back(static_cast<std::int32_t>(it - relation_names.begin()));
    }
  }
  return ids;
}

BlockGnnOptions modelOptions(const DistTrainOptions& o, std::int64_t feature_dim,
                             std::int64_t num_relations) {
  BlockGnnOptions mo;
  mo.model = o.model;
  mo.dim = o.dim;
  mo.layers = o.layers;
  mo.item_input = parseNodeInput(o.features);
  mo.feature_dim = feature_dim;
  mo.num_relations = num_relations;
  mo.num_bases = o.bases > 0 ? o.bases : std::min<std::int64_t>(8, num_relations);
  return mo;
}

// A part's owned LM features [num_owned, feature_dim] (0 columns when it has none).
torch::Tensor ownedFeatures(const Shard& shard) {
  if (shard.lm.cols == 0) return torch::zeros({shard.num_owned, 0});
  return torch::from_blob(const_cast<float*>(shard.lm.data.data()),
                          {shard.num_owned, shard.lm.cols}, torch::kFloat32)
      .clone();
}

torch::Tensor int64Tensor(const std::vector<std::int64_t>& v) {
  return torch::tensor(v, torch::kInt64);
}

// Layer-0 rows of `nodes` (global ids), given their ID rows and features when the model uses
// them: which rows take which input depends on the node type only.
struct InputRows {
  std::vector<std::int64_t> id_at, id_nodes, feature_at, feature_nodes;
};
InputRows inputRows(const BlockGnn& model, const NodeSpace& space,
                    const std::vector<std::int64_t>& nodes) {
  InputRows r;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const bool user = space.typeOf(nodes[i]) == NodeType::kUser;
    if (model->usesIds(user)) {
      r.id_at.push_back(static_cast<std::int64_t>(i));
      r.id_nodes.push_back(nodes[i]);
    }
    if (model->usesFeatures(user)) {
      r.feature_at.push_back(static_cast<std::int64_t>(i));
      r.feature_nodes.push_back(nodes[i]);
    }
  }
  return r;
}

// Full-neighbourhood, layer-by-layer inference of the owned nodes' output embeddings, then
// full-ranking evaluation of the owned test users against all items; the metric sums are
// all-reduced, so every rank returns the metrics of all test users.
class DistributedEvaluator {
 public:
  // Collective (plans the halo fetch).
  DistributedEvaluator(std::shared_ptr<ProcessGroup> group, const Shard& shard,
                       const PartitionBook& book, const GraphStats& stats,
                       std::vector<std::int64_t> ks)
      : group_(std::move(group)), shard_(shard), book_(book),
        exchange_(group_, std::make_shared<PartitionBookOwnership>(book)),
        train_items_(userItemCsr(shard.train, shard.nodes.num_users)),
        test_items_(userItemCsr(shard.test, shard.nodes.num_users)) {
    Block block;
    block.dst_nodes.assign(shard.global_ids.begin(), shard.global_ids.begin() + shard.num_owned);
    block.src_nodes.assign(shard.global_ids.begin(), shard.global_ids.end());
    block.indptr = shard.graph.indptr;
    block.indices = shard.graph.indices;
    block.relations = shard.graph.relations;
    block.edge_weight.reserve(block.indices.size());
    for (std::int64_t v = 0; v < shard.num_owned; ++v) {
      for (std::int64_t e = block.indptr[v]; e < block.indptr[v + 1]; ++e) {
        const double degrees = static_cast<double>(stats.degree[block.dst_nodes[v]]) *
                               stats.degree[block.src_nodes[block.indices[e]]];
        block.edge_weight.push_back(static_cast<float>(1.0 / std::sqrt(degrees)));
      }
    }
    block_ = BlockTensors::from(block, torch::kCPU);
    owned_.assign(block.dst_nodes.begin(), block.dst_nodes.end());
    halo_request_ = exchange_.plan(int64Tensor(std::vector<std::int64_t>(
        block.src_nodes.begin() + shard.num_owned, block.src_nodes.end())));
    RankingEvalOptions eo;
    eo.ks = std::move(ks);
    eo.cold_items = shard.cold_items;
    evaluator_ = std::make_unique<RankingEvaluator>(train_items_, test_items_,
                                                    shard.nodes.num_items, eo);
  }

  // Collective. `id_table` and `features` are this rank's owned rows.
  nlohmann::json evaluate(const BlockGnn& model, const torch::Tensor& id_table,
                          const torch::Tensor& features) {
    const auto start = Clock::now();
    torch::NoGradGuard no_grad;
    const NodeSpace& space = shard_.nodes;
    const InputRows in = inputRows(model, space, owned_);
    auto locals = [&](const std::vector<std::int64_t>& nodes) {
      std::vector<std::int64_t> rows(nodes.size());
      for (std::size_t i = 0; i < nodes.size(); ++i) rows[i] = book_.localId(nodes[i]);
      return int64Tensor(rows);
    };
    torch::Tensor h = model->inputs(shard_.num_owned, int64Tensor(in.id_at),
                                    id_table.index_select(0, locals(in.id_nodes)),
                                    int64Tensor(in.feature_at),
                                    features.index_select(0, locals(in.feature_nodes)));
    std::vector<torch::Tensor> per_layer{h};
    for (std::int64_t l = 0; l < model->options().layers; ++l) {
      const torch::Tensor halo = exchange_.fetch(halo_request_, h);
      h = model->layer(l, block_, torch::cat({h, halo}));
      per_layer.push_back(h);
    }
    const torch::Tensor out = model->combine(per_layer);

    // Every rank gets every item's embedding; each scores its own test users.
    std::vector<std::int64_t> item_rows, item_index, user_row(space.num_users, -1);
    for (std::int64_t v = 0; v < shard_.num_owned; ++v) {
      const std::int64_t g = owned_[v];
      if (space.typeOf(g) == NodeType::kItem) {
        item_rows.push_back(v);
        item_index.push_back(g - space.num_users);
      } else if (space.typeOf(g) == NodeType::kUser) {
        user_row[g] = v;
      }
    }
    WorkPtr rows_work = group_->allGatherV(out.index_select(0, int64Tensor(item_rows)));
    WorkPtr index_work = group_->allGatherV(int64Tensor(item_index));
    const torch::Tensor gathered = rows_work->result().tensor;
    torch::Tensor items = torch::zeros({space.num_items, out.size(1)});
    items.index_copy_(0, index_work->result().tensor, gathered);
    const torch::Tensor rows_of_user = int64Tensor(user_row);
    RankingEvalResult result = evaluator_->evaluate([&](const torch::Tensor& users) {
      return torch::matmul(out.index_select(0, rows_of_user.index_select(0, users)), items.t());
    });

    // Sums of every rank: (recall, precision, ndcg, users) per k, for all, cold, warm.
    std::vector<std::vector<MetricSums>*> groups{&result.sums};
    if (!shard_.cold_items.empty()) {
      groups.push_back(&result.cold_sums);
      groups.push_back(&result.warm_sums);
    }
    std::vector<double> packed;
    for (auto* sums : groups) {
      for (const MetricSums& s : *sums) {
        packed.insert(packed.end(), {s.recall, s.precision, s.ndcg, static_cast<double>(s.users)});
      }
    }
    torch::Tensor total = torch::tensor(packed, torch::kFloat64);
    group_->allReduce(total)->wait();
    const double* t = total.data_ptr<double>();
    for (auto* sums : groups) {
      for (MetricSums& s : *sums) {
        s.recall = *t++;
        s.precision = *t++;
        s.ndcg = *t++;
        s.users = static_cast<std::int64_t>(*t++);
      }
    }
    result.seconds = secondsSince(start);
    return toJson(result);
  }

 private:
  std::shared_ptr<ProcessGroup> group_;
  const Shard& shard_;
  const PartitionBook& book_;
  RowExchange exchange_;
  Csr train_items_, test_items_;
  BlockTensors block_;
  std::vector<std::int64_t> owned_;
  RowRequest halo_request_;
  std::unique_ptr<RankingEvaluator> evaluator_;
};

// The whole ID table by global id [num_nodes, dim], from every rank's owned rows. Collective.
torch::Tensor gatherTable(ProcessGroup& group, const Shard& shard, const torch::Tensor& owned) {
  std::vector<std::int64_t> ids(shard.global_ids.begin(), shard.global_ids.begin() + shard.num_owned);
  WorkPtr rows_work = group.allGatherV(owned);
  WorkPtr ids_work = group.allGatherV(int64Tensor(ids));
  const torch::Tensor rows = rows_work->result().tensor;
  torch::Tensor table = torch::empty({shard.nodes.numNodes(), owned.size(1)});
  table.index_copy_(0, ids_work->result().tensor, rows);
  return table;
}

std::string rankStateFile(const std::string& dir, int rank) {
  return fmt::format("{}/rank-{}.pt", dir, rank);
}

// Set by SIGTERM / SIGUSR1 (Slurm's pre-emption warnings; mpirun forwards SIGUSR1 to the
// ranks): the ranks agree at the next step boundary to write a checkpoint and stop.
std::atomic<int> g_stop_signal{0};
std::atomic<bool> g_stop_agreed{false};
extern "C" void onStopSignal(int signal) { g_stop_signal.store(signal); }

// A stop signal also arrives when a rank has died (srun --kill-on-bad-exit sends SIGTERM to
// the others); their agreement to stop then never completes, as the dead rank is part of it.
// So once a signal is in, the ranks get kStopGraceSeconds to agree, or the process exits
// (143, like an unhandled SIGTERM) instead of waiting for Slurm's SIGKILL.
constexpr double kStopGraceSeconds = 10.0;
class StopWatchdog {
 public:
  explicit StopWatchdog(int rank) : thread_([this, rank] { watch(rank); }) {}
  ~StopWatchdog() {
    done_ = true;
    thread_.join();
  }
  StopWatchdog(const StopWatchdog&) = delete;
  StopWatchdog& operator=(const StopWatchdog&) = delete;

 private:
  void watch(int rank) {
    std::optional<Clock::time_point> since;
    while (!done_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (g_stop_signal.load() == 0 || g_stop_agreed.load()) continue;
      if (!since) since = Clock::now();
      if (secondsSince(*since) > kStopGraceSeconds) {
        std::fprintf(stderr, "rank %d: signal %d received but the ranks did not agree to stop "
                     "within %.0f s (a rank has probably died); exiting without a checkpoint\n",
                     rank, g_stop_signal.load(), kStopGraceSeconds);
        std::fflush(stderr);
        std::_Exit(143);
      }
    }
  }
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// What an epoch has summed so far on this rank; part of a mid-epoch checkpoint, so that a
// resumed epoch reports the same loss as an uninterrupted one.
struct EpochTotals {
  double loss_sum = 0, seeds = 0, id_bytes = 0, feature_bytes = 0, sample_bytes = 0,
         sampled_edges = 0, sample_wait = 0, exchange = 0, compute = 0, allreduce = 0,
         kg_loss_sum = 0, kg_triples = 0;
  static constexpr int kFields = 12;
  double* data() { return &loss_sum; }
};

// The training options that decide the trajectory: a resumed run must use the checkpoint's.
const char* const kTrajectoryOptions[] = {"model", "features",  "remote_neighbours", "bases",
                                          "relation_fanouts", "replace", "kg_loss",
                                          "kg_batch_size",
                                          "batch_size", "dim",  "layers", "fanouts",
                                          "negatives",  "lr",   "l2",     "seed"};

class DistTrainer {
 public:
  explicit DistTrainer(const DistTrainOptions& options);
  DistTrainResult run();

 private:
  // Runs steps [first_step, steps) of `epoch`; false when a stop signal ended it early (the
  // checkpoint is then written).
  bool runEpoch(std::int64_t epoch, std::int64_t first_step, EpochTotals& totals);
  struct StepInputs {
    ShardedEmbedding::Rows id_rows;
    torch::Tensor h0;  // layer-0 rows of the nodes asked for
  };
  // Collective: the layer-0 rows of `nodes` (global ids), fetching ID rows and features from
  // their owners.
  StepInputs fetchInputs(const std::vector<std::int64_t>& nodes, EpochTotals& totals);
  // One BPR step on a sampled batch, plus (--kg-loss sum) the TransR loss of the step's triples.
  void bprStep(const MiniBatch& batch, EpochTotals& totals);
  // One TransR step on the KG triples of KG step `step` (--kg-loss alternate).
  void kgStep(std::int64_t epoch, std::int64_t step, EpochTotals& totals);
  // This rank's TransR loss sum (BPR form, -log sigmoid(d(corrupt) - d(true))) with its L2
  // term, from `rows` [3n, dim], the layer-0 rows of triples.nodes(); adds to the totals.
  torch::Tensor kgLoss(const KgTriples& triples, const torch::Tensor& rows, EpochTotals& totals);
  // Collective: backward of `loss`, gradient all-reduce, `optimizer`'s step, embedding rows'
  // step.
  void finishStep(const torch::Tensor& loss, const ShardedEmbedding::Rows& id_rows,
                  torch::optim::Adam* optimizer, EpochTotals& totals);
  // Collective, with --ckpt: true when a stop signal reached any rank; the checkpoint (resuming
  // at `next_step` of `epoch`) is then written.
  bool agreeToStop(std::int64_t epoch, std::int64_t next_step, const EpochTotals& totals);
  std::int64_t stepsPerEpoch() const { return sampler_->stepsPerEpoch() + kg_steps_; }
  nlohmann::json epochLine(std::int64_t epoch, const EpochTotals& totals, double seconds);
  // Collective. `next_step` is the step of `epoch` to run next (0 after a whole epoch).
  void writeCheckpoint(std::int64_t epoch, std::int64_t next_step, const EpochTotals& totals,
                       bool finished);
  // Collective; returns (epoch, next step) and fills `totals`.
  std::pair<std::int64_t, std::int64_t> resume(const std::string& dir, EpochTotals& totals);

  DistTrainOptions o_;
  int rank_ = 0, world_ = 1;
  nlohmann::json manifest_;
  Shard shard_;
  PartitionBook book_;
  std::shared_ptr<ProcessGroup> group_;
  GraphStats stats_;
  std::unique_ptr<CommNeighborSource> remote_;
  std::unique_ptr<NeighborSampler> sampler_;
  std::unique_ptr<KgTripleSampler> kg_;  // when the KG loss is on
  std::int64_t kg_steps_ = 0;            // KG steps per epoch (alternate)
  double kg_norm_ = 1;                   // expected triples per step over all ranks
  BlockGnn model_{nullptr};
  torch::Tensor features_;
  std::unique_ptr<RowExchange> feature_exchange_;
  std::unique_ptr<ShardedEmbedding> ids_;
  std::unique_ptr<GradientSynchronizer> sync_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  // KG steps (alternate) update only what the KG loss trains, with their own Adam state, as
  // KGAT's separate KG optimizer.
  std::unique_ptr<torch::optim::Adam> kg_optimizer_;
  std::int64_t dense_bytes_ = 0;
  std::unique_ptr<DistributedEvaluator> evaluator_;
  std::unique_ptr<std::ofstream> metrics_out_;
  nlohmann::json last_metrics_;
};

DistTrainer::DistTrainer(const DistTrainOptions& options) : o_(options) {
  if (o_.kg_loss.empty()) o_.kg_loss = o_.model == "kgat" ? "alternate" : "off";
  if (o_.kg_batch_size == 0) o_.kg_batch_size = o_.batch_size;
  validate(o_);
  if (o_.fanouts.empty()) o_.fanouts.assign(o_.layers, 10);
  rank_ = commRank(MPI_COMM_WORLD);
  world_ = commSize(MPI_COMM_WORLD);
  manifest_ =
      readJsonFile(o_.parts_dir + "/manifest.json", "partition manifest (run kgrec partition)");
  const std::int64_t parts = manifest_.value("parts", std::int64_t{0});
  if (parts != world_) {
    throw ConfigError(fmt::format(
        "{} holds {} parts but the job has {} ranks: run one rank per part (mpirun -np {} or "
        "srun -n {}), or partition again with --parts {}",
        o_.parts_dir, parts, world_, parts, parts, world_));
  }
  shard_ = readShard(o_.parts_dir + "/" + shardFileName(rank_));
  book_ = PartitionBook::load(o_.parts_dir);
  KGREC_CHECK(shard_.part == rank_ && book_.numParts() == world_,
              "{}: part {} of {} is not rank {}'s", o_.parts_dir, shard_.part, book_.numParts(),
              rank_);
  spdlog::info("rank {}: part {} of {}: {} owned nodes, {} halo nodes, {} training interactions",
               rank_, shard_.part, world_, shard_.num_owned, shard_.numHalo(), shard_.train.size());

  // Collectives from here on, in the same order on every rank. Sampling requests go over
  // communicators of their own, from the sampling threads.
  group_ = std::make_shared<MpiProcessGroup>();
  stats_ = gatherGraphStats(*group_, shard_, book_);
  SamplerOptions so;
  so.fanouts = o_.fanouts;
  so.replace = o_.replace;
  for (const auto& [names, fanouts] : o_.relation_fanouts) {
    so.relation_fanouts.push_back({relationIds(names, shard_.relation_names), fanouts});
  }
  so.negatives = o_.negatives;
  so.batch_size = o_.batch_size;
  so.seed = o_.seed;
  if (world_ > 1 && o_.remote_neighbours) {
    // One communicator per sampling thread (created collectively: every rank has the same
    // --sampler-threads), apart from the training step's.
    std::vector<std::shared_ptr<ProcessGroup>> lanes;
    for (int t = 0; t < o_.sampler_threads; ++t) lanes.push_back(std::make_shared<MpiProcessGroup>());
    remote_ = std::make_unique<CommNeighborSource>(std::move(lanes), book_);
  }
  sampler_ = std::make_unique<NeighborSampler>(shard_, book_, stats_, so, remote_.get());
  if (remote_) remote_->setOwner(sampler_.get());
  if (o_.kg_loss != "off") {
    kg_ = std::make_unique<KgTripleSampler>(shard_, o_.seed);
    torch::Tensor triples = torch::full({1}, kg_->numOwnedTriples(), torch::kInt64);
    group_->allReduce(triples)->wait();
    const auto total = triples.item<std::int64_t>();
    if (total > 0) {
      kg_steps_ =
          o_.kg_loss == "alternate" ? (total + o_.kg_batch_size - 1) / o_.kg_batch_size : 0;
      kg_norm_ = static_cast<double>(total) /
                 static_cast<double>(kg_steps_ > 0 ? kg_steps_ : sampler_->stepsPerEpoch());
    } else if (!options.kg_loss.empty()) {
      throw ConfigError(fmt::format("--kg-loss {}: {} has no KG triples; use --kg-loss off",
                                    o_.kg_loss, o_.parts_dir));
    } else {  // kgat's default on a graph without a KG: interactions alone
      if (rank_ == 0 && !o_.quiet) spdlog::info("{} has no KG triples: no KG loss", o_.parts_dir);
      o_.kg_loss = "off";
      kg_.reset();
    }
  }

  torch::manual_seed(o_.seed);  // the dense weights: the same on every rank and every P
  model_ = BlockGnn(modelOptions(o_, shard_.lm.cols,
                                 static_cast<std::int64_t>(shard_.relation_names.size())));
  features_ = ownedFeatures(shard_);
  feature_exchange_ =
      std::make_unique<RowExchange>(group_, std::make_shared<PartitionBookOwnership>(book_));
  SparseAdamOptions adam;
  adam.lr = o_.lr;
  ids_ = std::make_unique<ShardedEmbedding>(group_, book_, rank_, o_.dim, kInitStd, o_.seed, adam);
  std::vector<torch::Tensor> dense = model_->parameters();
  if (!dense.empty()) {
    GradientSynchronizerOptions go;
    go.reduce = ReduceOp::kSum;  // each rank's loss is its share of the global batch's
    sync_ = std::make_unique<GradientSynchronizer>(group_, dense, go);
    optimizer_ = std::make_unique<torch::optim::Adam>(dense, torch::optim::AdamOptions(o_.lr));
    if (kg_steps_ > 0) {
      kg_optimizer_ = std::make_unique<torch::optim::Adam>(model_->kgParameters(),
                                                           torch::optim::AdamOptions(o_.lr));
    }
    for (const torch::Tensor& p : dense) dense_bytes_ += p.numel() * p.element_size();
  }
  evaluator_ = std::make_unique<DistributedEvaluator>(group_, shard_, book_, stats_, o_.ks);
}

bool DistTrainer::runEpoch(std::int64_t epoch, std::int64_t first_step, EpochTotals& totals) {
  model_->train();
  const std::int64_t bpr_steps = sampler_->stepsPerEpoch();
  if (first_step < bpr_steps) {
    BatchPipeline pipeline(*sampler_, epoch, bpr_steps, o_.sampler_threads,
                           static_cast<std::size_t>(o_.queue_batches), first_step);
    MiniBatch batch;
    for (;;) {
      const auto t = Clock::now();
      if (!pipeline.next(&batch)) break;
      totals.sample_wait += secondsSince(t);
      bprStep(batch, totals);
      if (agreeToStop(epoch, batch.step + 1, totals)) return false;
    }
  }
  for (std::int64_t step = std::max<std::int64_t>(first_step - bpr_steps, 0); step < kg_steps_;
       ++step) {
    kgStep(epoch, step, totals);
    if (agreeToStop(epoch, bpr_steps + step + 1, totals)) return false;
  }
  return true;
}

DistTrainer::StepInputs DistTrainer::fetchInputs(const std::vector<std::int64_t>& nodes,
                                                 EpochTotals& totals) {
  const auto t = Clock::now();
  const std::int64_t id_bytes = ids_->bytesSent();
  const InputRows in = inputRows(model_, shard_.nodes, nodes);
  StepInputs inputs{ids_->fetch(int64Tensor(in.id_nodes)), {}};
  torch::Tensor feature_rows = torch::zeros({0, features_.size(1)});
  if (model_->options().item_input != NodeInput::kId) {
    const RowRequest request = feature_exchange_->plan(int64Tensor(in.feature_nodes));
    feature_rows = feature_exchange_->fetch(request, features_);
    totals.feature_bytes += static_cast<double>(request.rowsServedToOthers(rank_) *
                                                features_.size(1) * 4);
  }
  totals.id_bytes += static_cast<double>(ids_->bytesSent() - id_bytes);
  totals.exchange += secondsSince(t);
  const auto compute_start = Clock::now();  // the adapter's forward is the model's work
  inputs.h0 = model_->inputs(static_cast<std::int64_t>(nodes.size()), int64Tensor(in.id_at),
                             inputs.id_rows.rows, int64Tensor(in.feature_at), feature_rows);
  totals.compute += secondsSince(compute_start);
  return inputs;
}

torch::Tensor DistTrainer::kgLoss(const KgTriples& triples, const torch::Tensor& rows,
                                  EpochTotals& totals) {
  const auto n = static_cast<std::int64_t>(triples.size());
  const torch::Tensor heads = rows.narrow(0, 0, n), tails = rows.narrow(0, n, n),
                      corrupt = rows.narrow(0, 2 * n, n);
  const torch::Tensor relations = int64Tensor(triples.relations);
  const torch::Tensor transr =
      torch::softplus(model_->transrDistance(heads, relations, tails) -
                      model_->transrDistance(corrupt, relations, tails))
          .sum();
  totals.kg_loss_sum += transr.item<double>();
  totals.kg_triples += static_cast<double>(n);
  return transr + 0.5 * o_.l2 * rows.pow(2).sum();
}

void DistTrainer::bprStep(const MiniBatch& batch, EpochTotals& totals) {
  const std::int64_t sample_bytes = remote_ ? remote_->bytesSent() : 0;
  // With --kg-loss sum the step's triples ride along: their nodes follow the batch's inputs
  // in one fetch.
  KgTriples triples;
  std::vector<std::int64_t> nodes = batch.input_nodes;
  if (kg_ && kg_steps_ == 0) {
    triples = kg_->sample(batch.epoch, batch.step, sampler_->stepsPerEpoch());
    const std::vector<std::int64_t> triple_nodes = triples.nodes();
    nodes.insert(nodes.end(), triple_nodes.begin(), triple_nodes.end());
  }
  const StepInputs inputs = fetchInputs(nodes, totals);
  auto t = Clock::now();
  const auto num_inputs = static_cast<std::int64_t>(batch.input_nodes.size());
  const torch::Tensor h0 = inputs.h0.narrow(0, 0, num_inputs);
  std::vector<BlockTensors> blocks;
  for (const Block& b : batch.blocks) {
    blocks.push_back(BlockTensors::from(b, torch::kCPU));
    totals.sampled_edges += static_cast<double>(b.numEdges());
  }
  const auto count = static_cast<std::int64_t>(batch.users.size());
  const auto seed_rows = static_cast<std::int64_t>(batch.blocks.back().dst_nodes.size());
  const torch::Tensor out = model_->forward(blocks, h0, seed_rows);
  auto rowsOf = [](const std::vector<std::int32_t>& r) {
    return torch::tensor(std::vector<std::int64_t>(r.begin(), r.end()), torch::kInt64);
  };
  const torch::Tensor u_rows = rowsOf(batch.user_rows), p_rows = rowsOf(batch.positive_rows),
                      n_rows = rowsOf(batch.negative_rows);
  const torch::Tensor u = out.index_select(0, u_rows);
  const torch::Tensor pos = (u * out.index_select(0, p_rows)).sum(1);
  const torch::Tensor neg =
      (u.unsqueeze(1) * out.index_select(0, n_rows).view({count, o_.negatives, out.size(1)}))
          .sum(2);
  // Sums over this rank's seeds divided by the global batch size: the ranks' gradients
  // add up to the gradient of the global batch's mean loss, whatever P is.
  const torch::Tensor bpr = torch::softplus(neg - pos.unsqueeze(1)).mean(1).sum();
  const torch::Tensor reg =
      0.5 * (h0.index_select(0, u_rows).pow(2).sum() + h0.index_select(0, p_rows).pow(2).sum() +
             h0.index_select(0, n_rows).pow(2).sum() / static_cast<double>(o_.negatives));
  torch::Tensor loss = (bpr + o_.l2 * reg) / static_cast<double>(o_.batch_size);
  if (triples.size() > 0) {
    loss = loss + kgLoss(triples, inputs.h0.narrow(0, num_inputs, 3 * static_cast<std::int64_t>(
                                                                       triples.size())),
                         totals) / kg_norm_;
  }
  totals.loss_sum += bpr.item<double>();
  totals.seeds += static_cast<double>(count);
  totals.compute += secondsSince(t);
  finishStep(loss, inputs.id_rows, optimizer_.get(), totals);
  totals.sample_bytes += static_cast<double>((remote_ ? remote_->bytesSent() : 0) - sample_bytes);
}

void DistTrainer::kgStep(std::int64_t epoch, std::int64_t step, EpochTotals& totals) {
  const KgTriples triples = kg_->sample(epoch, step, kg_steps_);
  const StepInputs inputs = fetchInputs(triples.nodes(), totals);
  const auto t = Clock::now();
  const torch::Tensor loss = kgLoss(triples, inputs.h0, totals) / kg_norm_;
  totals.compute += secondsSince(t);
  finishStep(loss, inputs.id_rows, kg_optimizer_.get(), totals);
}

void DistTrainer::finishStep(const torch::Tensor& loss, const ShardedEmbedding::Rows& id_rows,
                             torch::optim::Adam* optimizer, EpochTotals& totals) {
  auto t = Clock::now();
  // A rank whose share of the step is empty has nothing to differentiate; it still takes
  // part in every collective below.
  if (loss.requires_grad()) loss.backward();
  totals.compute += secondsSince(t);
  t = Clock::now();
  if (sync_) {
    sync_->finalize();
    optimizer->step();
    // All gradients, not only the stepped optimizer's: the synchroniser wrote every one.
    optimizer_->zero_grad();
  }
  totals.allreduce += secondsSince(t);
  t = Clock::now();
  const std::int64_t id_bytes = ids_->bytesSent();
  ids_->step(id_rows);
  totals.exchange += secondsSince(t);
  totals.id_bytes += static_cast<double>(ids_->bytesSent() - id_bytes);
}

bool DistTrainer::agreeToStop(std::int64_t epoch, std::int64_t next_step,
                              const EpochTotals& totals) {
  if (o_.checkpoint_dir.empty()) return false;
  // A signal may reach only some ranks: they all stop at the same step or none does.
  torch::Tensor stop = torch::full({1}, g_stop_signal.load() != 0 ? 1 : 0, torch::kInt32);
  group_->allReduce(stop)->wait();
  if (stop.item<int>() == 0) return false;
  g_stop_agreed = true;
  writeCheckpoint(epoch, next_step, totals, /*finished=*/false);
  return true;
}

nlohmann::json DistTrainer::epochLine(std::int64_t epoch, const EpochTotals& totals,
                                      double seconds) {
  // Totals over the ranks.
  torch::Tensor summed = torch::from_blob(const_cast<EpochTotals&>(totals).data(),
                                          {EpochTotals::kFields}, torch::kFloat64).clone();
  group_->allReduce(summed)->wait();
  const double* tot = summed.data_ptr<double>();
  const std::int64_t steps = stepsPerEpoch();
  nlohmann::json line = {{"epoch", epoch + 1},
          {"ranks", world_},
          {"loss", tot[0] / std::max(1.0, tot[1])},
          {"epoch_seconds", seconds},
          {"steps", steps},
          {"examples_per_second", tot[1] / seconds},
          {"sampled_edges_per_second", tot[5] / seconds},
          {"bytes_per_rank",
           {{"embedding_exchange", tot[2] / world_},
            {"feature_exchange", tot[3] / world_},
            {"neighbour_requests", tot[4] / world_},
            // A ring all-reduce sends 2 (P - 1) / P of the payload per rank.
            {"allreduce", world_ > 1 ? 2.0 * (world_ - 1) / world_ * dense_bytes_ * steps : 0.0}}},
          {"seconds_per_rank",
           {{"sample_wait", tot[6] / world_},
            {"exchange", tot[7] / world_},
            {"compute", tot[8] / world_},
            {"allreduce", tot[9] / world_}}}};
  if (kg_) line["kg_loss"] = tot[10] / std::max(1.0, tot[11]);
  return line;
}

void DistTrainer::writeCheckpoint(std::int64_t epoch, std::int64_t next_step,
                                  const EpochTotals& totals, bool finished) {
  namespace fs = std::filesystem;
  const std::string& dir = o_.checkpoint_dir;
  const std::string manifest_path = dir + "/checkpoint.json";
  // Whatever was there stops being a checkpoint before any of its files is replaced: a crash
  // from here on leaves a folder without a manifest, which is never loaded.
  if (rank_ == 0) {
    fs::create_directories(dir);
    fs::remove(manifest_path);
  }
  const torch::Tensor table = gatherTable(*group_, shard_, ids_->table());
  group_->barrier()->wait();
  {
    torch::serialize::OutputArchive archive;
    ids_->save(archive);
    if (optimizer_) {
      torch::serialize::OutputArchive adam;
      optimizer_->save(adam);
      archive.write("adam", adam);
    }
    if (kg_optimizer_) {
      torch::serialize::OutputArchive adam;
      kg_optimizer_->save(adam);
      archive.write("kg_adam", adam);
    }
    archive.write("epoch_totals",
                  torch::from_blob(const_cast<EpochTotals&>(totals).data(),
                                   {EpochTotals::kFields}, torch::kFloat64).clone());
    AtomicOutput out(rankStateFile(dir, rank_));
    archive.save_to(out.tempPath());
    out.commit();
  }
  if (rank_ == 0) {
    {
      AtomicOutput out(dir + "/model.pt");
      torch::save(model_, out.tempPath());
      out.commit();
    }
    {
      AtomicOutput out(dir + "/id_embedding.pt");
      torch::save(table, out.tempPath());
      out.commit();
    }
  }
  group_->barrier()->wait();  // every rank's state is on disk
  if (rank_ == 0) {
    const nlohmann::json manifest = {{"kind", kDistCheckpointKind},
                                     {"version", kDistCheckpointVersion},
                                     {"epoch", epoch},
                                     {"next_step", next_step},
                                     {"finished", finished},
                                     {"ranks", world_},
                                     {"dataset", manifest_.value("dataset", std::string())},
                                     {"feature_dim", model_->options().feature_dim},
                                     {"num_relations", model_->options().num_relations},
                                     {"options", toJson(o_)},
                                     {"metrics", last_metrics_}};
    writeFileAtomically(manifest_path, manifest.dump(2) + "\n");
  }
  group_->barrier()->wait();  // the checkpoint is complete when any rank returns
  if (rank_ == 0 && !o_.quiet) {
    spdlog::info("checkpoint written to {} (epoch {}, next step {})", dir, epoch + (finished ? 0 : 1),
                 next_step);
  }
}

std::pair<std::int64_t, std::int64_t> DistTrainer::resume(const std::string& dir,
                                                          EpochTotals& totals) {
  const std::string manifest_path = dir + "/checkpoint.json";
  if (!std::filesystem::exists(manifest_path)) {
    throw FormatError(fmt::format("--resume {}: no checkpoint.json; the checkpoint is incomplete "
                                  "(a run stopped while writing it) or this is not one",
                                  dir));
  }
  const nlohmann::json m = readJsonFile(manifest_path, "checkpoint manifest");
  std::int64_t epoch = 0, next_step = 0;
  try {
    if (m.at("kind") != kDistCheckpointKind || m.at("version") != kDistCheckpointVersion) {
      throw FormatError(fmt::format("{}: not a version-{} kgrec distributed checkpoint",
                                    manifest_path, kDistCheckpointVersion));
    }
    if (m.at("ranks").get<int>() != world_) {
      throw ConfigError(fmt::format("--resume {}: written by {} ranks, this job has {}", dir,
                                    m.at("ranks").get<int>(), world_));
    }
    const nlohmann::json saved = m.at("options");
    const nlohmann::json now = toJson(o_);
    for (const char* key : kTrajectoryOptions) {
      if (saved.at(key) != now.at(key)) {
        throw ConfigError(fmt::format("--resume {}: the checkpoint was trained with {} {}, this "
                                      "run asks for {}; resume with the same settings",
                                      dir, key, saved.at(key).dump(), now.at(key).dump()));
      }
    }
    epoch = m.at("epoch").get<std::int64_t>();
    next_step = m.at("next_step").get<std::int64_t>();
    if (m.at("finished").get<bool>()) ++epoch;
    last_metrics_ = m.at("metrics");
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(fmt::format("{}: malformed checkpoint manifest: {}", manifest_path, e.what()));
  }
  {
    // Loaded into a copy, then copied in place: torch::load would swap the parameters'
    // storage, and the gradient synchroniser's hooks would no longer see their gradients.
    BlockGnn saved(model_->options());
    torch::load(saved, dir + "/model.pt");
    torch::NoGradGuard no_grad;
    const auto target = model_->named_parameters();
    for (const auto& item : saved->named_parameters()) target[item.key()].copy_(item.value());
  }
  torch::serialize::InputArchive archive;
  archive.load_from(rankStateFile(dir, rank_));
  ids_->load(archive);
  if (optimizer_) {
    torch::serialize::InputArchive adam;
    archive.read("adam", adam);
    optimizer_->load(adam);
  }
  if (kg_optimizer_) {
    torch::serialize::InputArchive adam;
    archive.read("kg_adam", adam);
    kg_optimizer_->load(adam);
  }
  torch::Tensor saved_totals;
  archive.read("epoch_totals", saved_totals);
  std::copy_n(saved_totals.data_ptr<double>(), EpochTotals::kFields, totals.data());
  if (rank_ == 0 && !o_.quiet) {
    spdlog::info("resuming from {}: epoch {}, step {}", dir, epoch + 1, next_step);
  }
  return {epoch, next_step};
}

DistTrainResult DistTrainer::run() {
  const bool lead = rank_ == 0;
  std::int64_t first_epoch = 0, first_step = 0;
  EpochTotals resumed;
  if (!o_.resume_dir.empty()) std::tie(first_epoch, first_step) = resume(o_.resume_dir, resumed);
  if (lead && !o_.metrics_out.empty()) {
    metrics_out_ = std::make_unique<std::ofstream>(
        o_.metrics_out, o_.resume_dir.empty() ? std::ios::trunc : std::ios::app);
    if (!*metrics_out_) {
      throw ConfigError(fmt::format("cannot write --metrics-out {}", o_.metrics_out));
    }
  }
  std::unique_ptr<StopWatchdog> watchdog;
  if (!o_.checkpoint_dir.empty()) {
    std::signal(SIGTERM, onStopSignal);
    std::signal(SIGUSR1, onStopSignal);
    watchdog = std::make_unique<StopWatchdog>(rank_);
  }
  if (lead && !o_.quiet) {
    spdlog::info("training {} ({} input) on {} ranks ({} backend): {} steps of {} seeds per "
                 "epoch, fanouts {}{}",
                 o_.model, o_.features, world_, group_->backendName(), sampler_->stepsPerEpoch(),
                 o_.batch_size, fmt::join(o_.fanouts, ","),
                 world_ > 1 && !o_.remote_neighbours ? ", local part + halo only" : "");
    if (kg_) {
      spdlog::info("KG loss (TransR) {}: {}", o_.kg_loss,
                   kg_steps_ > 0 ? fmt::format("{} KG steps of {} triples after the BPR steps",
                                               kg_steps_, o_.kg_batch_size)
                                 : std::string("added to every BPR step"));
    }
  }
  DistTrainResult result;
  for (std::int64_t epoch = first_epoch; epoch < o_.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    EpochTotals totals = epoch == first_epoch ? resumed : EpochTotals{};
    if (!runEpoch(epoch, epoch == first_epoch ? first_step : 0, totals)) {
      result.stopped = true;
      return result;
    }
    nlohmann::json line = epochLine(epoch, totals, secondsSince(epoch_start));
    const bool last = epoch + 1 == o_.epochs;
    if ((o_.eval_every > 0 && (epoch + 1) % o_.eval_every == 0) || last) {
      model_->eval();
      last_metrics_ = evaluator_->evaluate(model_, ids_->table(), features_);
      line.update(last_metrics_);
    }
    if (lead) {
      if (!o_.quiet) {
        std::string shown = fmt::format("epoch {}/{}: loss {:.5f}, {:.2f}s", epoch + 1, o_.epochs,
                                        line["loss"].get<double>(),
                                        line["epoch_seconds"].get<double>());
        for (std::int64_t k : o_.ks) {
          const std::string key = fmt::format("recall@{}", k);
          if (line.contains(key)) {
            shown += fmt::format(", recall@{} {:.4f}, ndcg@{} {:.4f}", k, line[key].get<double>(),
                                 k, line[fmt::format("ndcg@{}", k)].get<double>());
          }
        }
        spdlog::info("{}", shown);
      }
      if (metrics_out_) *metrics_out_ << line.dump() << "\n" << std::flush;
    }
    result.epochs.push_back(std::move(line));
    if (!o_.checkpoint_dir.empty() &&
        (last || (o_.checkpoint_every > 0 && (epoch + 1) % o_.checkpoint_every == 0))) {
      writeCheckpoint(epoch, 0, EpochTotals{}, /*finished=*/true);
    }
  }
  result.final_metrics = last_metrics_;
  return result;
}

}  // namespace

nlohmann::json toJson(const DistTrainOptions& o) {
  return {{"parts", o.parts_dir},   {"model", o.model},      {"features", o.features},
          {"remote_neighbours", o.remote_neighbours}, {"bases", o.bases},
          {"relation_fanouts", o.relation_fanouts}, {"replace", o.replace},
          {"kg_loss", o.kg_loss},   {"kg_batch_size", o.kg_batch_size},
          {"epochs", o.epochs},     {"batch_size", o.batch_size}, {"dim", o.dim},
          {"layers", o.layers},     {"fanouts", o.fanouts},  {"negatives", o.negatives},
          {"lr", o.lr},             {"l2", o.l2},            {"seed", o.seed},
          {"eval_every", o.eval_every}, {"ks", o.ks}};
}

DistTrainOptions distTrainOptionsFromJson(const nlohmann::json& j) {
  DistTrainOptions o;
  o.parts_dir = j.at("parts").get<std::string>();
  o.model = j.at("model").get<std::string>();
  o.features = j.at("features").get<std::string>();
  o.remote_neighbours = j.at("remote_neighbours").get<bool>();
  o.bases = j.at("bases").get<std::int64_t>();
  o.relation_fanouts =
      j.at("relation_fanouts").get<std::map<std::string, std::vector<std::int64_t>>>();
  o.replace = j.at("replace").get<bool>();
  o.kg_loss = j.at("kg_loss").get<std::string>();
  o.kg_batch_size = j.at("kg_batch_size").get<std::int64_t>();
  o.epochs = j.at("epochs").get<std::int64_t>();
  o.batch_size = j.at("batch_size").get<std::int64_t>();
  o.dim = j.at("dim").get<std::int64_t>();
  o.layers = j.at("layers").get<std::int64_t>();
  o.fanouts = j.at("fanouts").get<std::vector<std::int64_t>>();
  o.negatives = j.at("negatives").get<std::int64_t>();
  o.lr = j.at("lr").get<double>();
  o.l2 = j.at("l2").get<double>();
  o.seed = j.at("seed").get<std::uint64_t>();
  o.eval_every = j.at("eval_every").get<std::int64_t>();
  o.ks = j.at("ks").get<std::vector<std::int64_t>>();
  return o;
}

DistTrainResult trainDistributed(const DistTrainOptions& options) {
  return DistTrainer(options).run();
}

bool isDistCheckpoint(const std::string& dir) {
  const std::string path = dir + "/checkpoint.json";
  if (!std::filesystem::exists(path)) return false;
  return readJsonFile(path, "checkpoint manifest").value("kind", "") == kDistCheckpointKind;
}

nlohmann::json evaluateDistCheckpoint(const std::string& dir, std::vector<std::int64_t> ks) {
  const std::string manifest_path = dir + "/checkpoint.json";
  const nlohmann::json manifest = readJsonFile(manifest_path, "checkpoint manifest");
  DistTrainOptions o;
  std::string dataset_path;
  std::int64_t feature_dim = 0;
  try {
    if (manifest.at("kind") != kDistCheckpointKind ||
        manifest.at("version") != kDistCheckpointVersion) {
      throw FormatError(fmt::format("{}: not a version-{} kgrec distributed checkpoint",
                                    manifest_path, kDistCheckpointVersion));
    }
    o = distTrainOptionsFromJson(manifest.at("options"));
    dataset_path = manifest.at("dataset").get<std::string>();
    feature_dim = manifest.at("feature_dim").get<std::int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(fmt::format("{}: malformed checkpoint manifest: {}", manifest_path, e.what()));
  }
  if (ks.empty()) ks = o.ks;
  // The whole dataset as one part, evaluated by this process alone.
  const Dataset d = readDataset(dataset_path);
  const std::optional<NodeFeatures> features = readNodeFeatures(dataset_path, d.nodes);
  const PartitionBook book = PartitionBook::fromOwnedNodes(
      d.nodes.numNodes(),
      orderOwnedNodes(d.graph, std::vector<std::int32_t>(d.nodes.numNodes(), 0), 1));
  const Shard shard = buildShard(d, book, 0, features ? &*features : nullptr);
  const GraphStats stats = graphStats(d);
  BlockGnn model(modelOptions(o, feature_dim,
                              static_cast<std::int64_t>(d.relation_names.size())));
  torch::load(model, dir + "/model.pt");
  model->eval();
  torch::Tensor table;
  torch::load(table, dir + "/id_embedding.pt");
  KGREC_CHECK(table.size(0) == d.nodes.numNodes(), "{}: {} embedding rows for {} nodes", dir,
              table.size(0), d.nodes.numNodes());
  const torch::Tensor owned = table.index_select(
      0, int64Tensor(std::vector<std::int64_t>(shard.global_ids.begin(), shard.global_ids.end())));
  auto self = std::make_shared<MpiProcessGroup>(MPI_COMM_SELF);
  DistributedEvaluator evaluator(self, shard, book, stats, ks);
  return evaluator.evaluate(model, owned, ownedFeatures(shard));
}

}  // namespace kgrec
