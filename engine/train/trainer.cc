#include "engine/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>

#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include "comm/gradient_synchronizer.h"
#include "comm/local_process_group.h"
#include "engine/common/atomic_output.h"
#include "engine/common/error.h"
#include "engine/store/dataset_io.h"
#include "engine/train/block_gnn_options.h"
#include "engine/train/checkpoint.h"
#include "engine/train/checkpoint_model.h"
#include "engine/train/device_batch_pipeline.h"
#include "engine/train/distributed_evaluator.h"
#include "engine/train/epoch_metrics.h"
#include "engine/train/full_graph_propagation.h"
#include "engine/train/graph_filter_trainer.h"
#include "engine/train/mixed_precision.h"
#include "engine/train/losses.h"
#include "engine/train/sharded_embedding.h"
#include "engine/train/simgcl.h"
#include "engine/train/spectral_init.h"
#include "engine/train/training_data.h"
#include "engine/train/training_device.h"
#include "models/block_gnn.h"
#include "sampler/dist/dist_sampling.h"
#include "sampler/kg_triple_sampler.h"

namespace kgrec {
namespace {

constexpr double kInitStd = 0.1;  // N(0, 0.1^2), as the LightGCN reference code

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
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

// The whole ID table by global id [num_nodes, dim] on the host, from every rank's owned rows.
// Collective.
torch::Tensor gatherTable(ProcessGroup& group, const Shard& shard, const torch::Tensor& owned) {
  std::vector<std::int64_t> ids(shard.global_ids.begin(), shard.global_ids.begin() + shard.num_owned);
  WorkPtr rows_work = group.allGatherV(owned);
  WorkPtr ids_work = group.allGatherV(int64Tensor(ids));
  torch::Tensor table = torch::empty({shard.nodes.numNodes(), owned.size(1)});
  table.index_copy_(0, ids_work->result().tensor, rows_work->result().tensor.cpu());
  return table;
}

// A copy of `model`'s weights on the host: checkpoints hold CPU tensors whatever the device.
BlockGnn hostCopy(const BlockGnn& model) {
  BlockGnn copy(model->options());
  torch::NoGradGuard no_grad;
  const auto source = model->named_parameters();
  for (const auto& item : copy->named_parameters()) item.value().copy_(source[item.key()]);
  return copy;
}

// Moves the state of every parameter of `adam` to `device`, where its parameters are.
void moveAdamState(torch::optim::Adam& adam, torch::Device device) {
  for (auto& entry : adam.state()) {
    auto& state = static_cast<torch::optim::AdamParamState&>(*entry.second);
    state.exp_avg(state.exp_avg().to(device));
    state.exp_avg_sq(state.exp_avg_sq().to(device));
    if (state.max_exp_avg_sq().defined()) state.max_exp_avg_sq(state.max_exp_avg_sq().to(device));
  }
}

// Writes `adam`'s state under `name` as CPU tensors; it stays on `device` for training.
void writeAdamOnHost(torch::optim::Adam& adam, torch::Device device, const char* name,
                     torch::serialize::OutputArchive& archive) {
  moveAdamState(adam, torch::kCPU);
  torch::serialize::OutputArchive state;
  adam.save(state);
  archive.write(name, state);
  moveAdamState(adam, device);
}

// Reads the state `name` of `adam` (CPU tensors) and moves it to `device`.
void readAdam(torch::optim::Adam& adam, torch::Device device, const char* name,
              torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive state;
  archive.read(name, state);
  adam.load(state);
  moveAdamState(adam, device);
}

// Loads `dir`'s dense weights into `model` in place, on the model's device: torch::load would
// swap the parameters' storage, and the gradient synchroniser's hooks would no longer see
// their gradients.
void loadWeightsInPlace(BlockGnn& model, const std::string& dir) {
  BlockGnn saved(model->options());
  torch::load(saved, dir + "/model.pt");
  torch::NoGradGuard no_grad;
  const auto target = model->named_parameters();
  for (const auto& item : saved->named_parameters()) target[item.key()].copy_(item.value());
}

}  // namespace

class Trainer::Impl {
 public:
  Impl(const TrainOptions& options, std::shared_ptr<ProcessGroup> group, TrainHooks hooks);
  TrainResult run();

 private:
  bool full() const { return o_.sampling.propagation == "full"; }
  bool simgcl() const { return o_.objective.ssl == "simgcl"; }
  // Runs steps [first_step, steps) of `epoch`; false when a stop request ended it early (the
  // checkpoint is then written).
  bool runEpoch(std::int64_t epoch, std::int64_t first_step, EpochTotals& totals);
  struct StepInputs {
    ShardedEmbedding::Rows id_rows;
    torch::Tensor h0;  // layer-0 rows of the nodes asked for
  };
  // Collective: the layer-0 rows of `nodes` (global ids), fetching ID rows and features from
  // their owners (sampled propagation).
  StepInputs fetchInputs(const std::vector<std::int64_t>& nodes, EpochTotals& totals);
  // One step of the objective (--loss, --ssl) on a batch, plus (--kg-loss sum) the TransR
  // loss of the step's triples; sampled, `blocks` are the batch's blocks on the device (empty
  // in full-graph mode).
  void objectiveStep(const MiniBatch& batch, const std::vector<BlockTensors>& blocks,
                     EpochTotals& totals);
  // One TransR step on the KG triples of KG step `step` (--kg-loss alternate).
  void kgStep(std::int64_t epoch, std::int64_t step, EpochTotals& totals);
  // Collective: backward of `loss`, gradient all-reduce, `optimizer`'s step, ID rows' step.
  void finishStep(const torch::Tensor& loss, const ShardedEmbedding::Rows& id_rows,
                  torch::optim::Adam* optimizer, EpochTotals& totals);
  // Collective, with --ckpt: true when a stop was requested on any rank; the checkpoint
  // (resuming at `next_step` of `epoch`) is then written.
  bool agreeToStop(std::int64_t epoch, std::int64_t next_step, const EpochTotals& totals);
  // Rank 0, unless quiet: a progress line at most every kProgressSeconds within an epoch
  // (`steps_done` of stepsPerEpoch(); the run began it at `first_step`, at `epoch_start`).
  // Local, no collective.
  void reportProgress(std::int64_t epoch, std::int64_t first_step, std::int64_t steps_done,
                      const EpochTotals& totals, Clock::time_point epoch_start);
  static constexpr double kProgressSeconds = 30.0;
  Clock::time_point last_progress_;
  std::int64_t stepsPerEpoch() const { return sampler_->stepsPerEpoch() + kg_steps_; }
  torch::Tensor ownedInputs() const {
    return propagation_->inputs(model_, ids_->table(), features_);
  }
  // Collective. `next_step` is the step of `epoch` to run next (0 after a whole epoch).
  void writeCheckpoint(std::int64_t epoch, std::int64_t next_step, const EpochTotals& totals,
                       bool finished);
  // Collective; returns (epoch, next step) and fills `totals`.
  std::pair<std::int64_t, std::int64_t> resume(const std::string& dir, EpochTotals& totals);

  TrainOptions o_;
  torch::Device device_;
  c10::optional<torch::ScalarType> autocast_;  // --precision bf16 | fp16
  LossScaler scaler_;                          // fp16 only
  TrainHooks hooks_;
  std::shared_ptr<ProcessGroup> group_;
  int rank_ = 0, world_ = 1;
  TrainingData data_;
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
  std::unique_ptr<FullGraphPropagation> propagation_;
  std::unique_ptr<DistributedEvaluator> evaluator_;
  std::unique_ptr<std::ofstream> metrics_out_;
  nlohmann::json last_metrics_;
};

Trainer::Impl::Impl(const TrainOptions& options, std::shared_ptr<ProcessGroup> group,
                     TrainHooks hooks)
    : o_(resolveTrainOptions(options)),
      device_(trainingDevice(o_.run.device)),
      autocast_(autocastDtype(o_.optim.precision, device_)),
      scaler_(o_.optim.precision == "fp16"),
      hooks_(std::move(hooks)),
      group_(std::move(group)) {
  rank_ = group_->rank();
  world_ = group_->size();
  // Collectives from here on, in the same order on every rank. Sampling requests go over
  // groups of their own, from the sampling threads.
  data_ = loadTrainingData(o_.run.input, *group_, o_.model.relations);
  const Shard& shard = data_.shard;
  SamplerOptions so;
  so.fanouts = full() ? std::vector<std::int64_t>{-1} : o_.sampling.fanouts;
  so.replace = o_.sampling.replace;
  for (const auto& [names, fanouts] : o_.sampling.relation_fanouts) {
    so.relation_fanouts.push_back({relationIds(names, shard.relation_names), fanouts});
  }
  so.negatives = o_.sampling.negatives;
  so.batch_size = o_.optim.batch_size;
  so.seed = o_.optim.seed;
  if (!full() && world_ > 1 && o_.sampling.remote_neighbours) {
    // One group per sampling thread (created collectively: every rank has the same
    // --sampler-threads), apart from the training step's.
    std::vector<std::shared_ptr<ProcessGroup>> lanes;
    for (int t = 0; t < o_.sampling.threads; ++t) lanes.push_back(group_->duplicate());
    remote_ = std::make_unique<CommNeighborSource>(std::move(lanes), data_.book);
  }
  sampler_ = std::make_unique<NeighborSampler>(shard, data_.book, data_.stats, so, remote_.get());
  if (remote_) remote_->setOwner(sampler_.get());
  if (o_.optim.kg_loss != "off") {
    kg_ = std::make_unique<KgTripleSampler>(shard, o_.optim.seed);
    torch::Tensor triples = torch::full({1}, kg_->numOwnedTriples(), torch::kInt64);
    group_->allReduce(triples)->wait();
    const auto total = triples.item<std::int64_t>();
    if (total > 0) {
      kg_steps_ = o_.optim.kg_loss == "alternate"
                      ? (total + o_.optim.kg_batch_size - 1) / o_.optim.kg_batch_size
                      : 0;
      kg_norm_ = static_cast<double>(total) /
                 static_cast<double>(kg_steps_ > 0 ? kg_steps_ : sampler_->stepsPerEpoch());
    } else if (!options.optim.kg_loss.empty()) {
      throw ConfigError(fmt::format("--kg-loss {}: {} has no KG triples{}; use --kg-loss off",
                                    o_.optim.kg_loss, o_.run.input,
                                    o_.model.relations == "all" ? "" : " (--relations interactions)"));
    } else {  // kgat's default on a graph without a KG: interactions alone
      if (rank_ == 0 && !o_.run.quiet) spdlog::info("{} has no KG triples: no KG loss", o_.run.input);
      o_.optim.kg_loss = "off";
      kg_.reset();
    }
  }

  torch::manual_seed(o_.optim.seed);  // the dense weights: the same on every rank and every P
  model_ = BlockGnn(blockGnnOptions(o_.model, shard.lm.cols,
                                    static_cast<std::int64_t>(shard.relation_names.size())));
  model_->to(device_);  // drawn on the host, so every device starts from the same weights
  features_ = ownedFeatures(shard).to(device_);
  feature_exchange_ = std::make_unique<RowExchange>(
      group_, std::make_shared<PartitionBookOwnership>(data_.book));
  SparseAdamOptions adam;
  adam.lr = o_.optim.lr;
  ids_ = std::make_unique<ShardedEmbedding>(group_, data_.book, rank_, o_.model.dim, kInitStd,
                                            o_.optim.seed, adam, device_);
  if (o_.objective.init == "svd") {
    // Every rank factors the whole training split alike and keeps its own rows.
    const auto t = Clock::now();
    const Dataset whole = readDataset(data_.dataset_path);
    const SpectralRows spectral =
        spectralRows(whole.train, whole.nodes, o_.model.dim, kInitStd, o_.optim.seed);
    std::vector<std::int64_t> owned(ids_->table().size(0));
    for (std::size_t local = 0; local < owned.size(); ++local) {
      owned[local] = data_.book.globalId(shard.part, static_cast<std::int64_t>(local));
    }
    applySpectralRows(spectral, shard.nodes, owned, ids_->table());
    if (rank_ == 0 && !o_.run.quiet) {
      spdlog::info("--init svd: users' and items' rows from a rank-{} SVD of the normalised "
                   "interactions ({:.2f}s)", o_.model.dim, secondsSince(t));
    }
  }
  std::vector<torch::Tensor> dense = model_->parameters();
  if (!dense.empty()) {
    GradientSynchronizerOptions go;
    go.reduce = ReduceOp::kSum;  // each rank's loss is its share of the global batch's
    sync_ = std::make_unique<GradientSynchronizer>(group_, dense, go);
    optimizer_ = std::make_unique<torch::optim::Adam>(dense, torch::optim::AdamOptions(o_.optim.lr));
    if (kg_steps_ > 0) {
      kg_optimizer_ = std::make_unique<torch::optim::Adam>(model_->kgParameters(),
                                                           torch::optim::AdamOptions(o_.optim.lr));
    }
    for (const torch::Tensor& p : dense) dense_bytes_ += p.numel() * p.element_size();
  }
  propagation_ =
      std::make_unique<FullGraphPropagation>(group_, shard, data_.book, data_.stats, device_);
  evaluator_ = std::make_unique<DistributedEvaluator>(group_, shard, data_.stats, *propagation_,
                                                      o_.run.ks);
}

bool Trainer::Impl::runEpoch(std::int64_t epoch, std::int64_t first_step, EpochTotals& totals) {
  model_->train();
  const auto epoch_start = last_progress_ = Clock::now();
  const std::int64_t bpr_steps = sampler_->stepsPerEpoch();
  if (first_step < bpr_steps) {
    if (full()) {
      for (std::int64_t step = first_step; step < bpr_steps; ++step) {
        const auto t = Clock::now();
        const MiniBatch batch = sampler_->sampleSeeds(epoch, step);
        totals.sample_wait += secondsSince(t);
        objectiveStep(batch, {}, totals);
        reportProgress(epoch, first_step, step + 1, totals, epoch_start);
        if (agreeToStop(epoch, step + 1, totals)) return false;
      }
    } else {
      DeviceBatchPipeline pipeline(*sampler_, epoch, bpr_steps, o_.sampling.threads,
                                   static_cast<std::size_t>(o_.sampling.queue_batches),
                                   first_step, device_);
      DeviceBatch staged;
      for (;;) {
        const auto t = Clock::now();
        if (!pipeline.next(&staged)) break;
        totals.sample_wait += secondsSince(t);
        objectiveStep(staged.batch, staged.blocks, totals);
        reportProgress(epoch, first_step, staged.batch.step + 1, totals, epoch_start);
        if (agreeToStop(epoch, staged.batch.step + 1, totals)) return false;
      }
    }
  }
  for (std::int64_t step = std::max<std::int64_t>(first_step - bpr_steps, 0); step < kg_steps_;
       ++step) {
    kgStep(epoch, step, totals);
    reportProgress(epoch, first_step, bpr_steps + step + 1, totals, epoch_start);
    if (agreeToStop(epoch, bpr_steps + step + 1, totals)) return false;
  }
  return true;
}

Trainer::Impl::StepInputs Trainer::Impl::fetchInputs(const std::vector<std::int64_t>& nodes,
                                                     EpochTotals& totals) {
  const auto t = Clock::now();
  const std::int64_t id_bytes = ids_->bytesSent();
  const InputRows in = inputRows(model_, data_.shard.nodes, nodes);
  StepInputs inputs{ids_->fetch(int64Tensor(in.id_nodes)), {}};
  torch::Tensor feature_rows = torch::zeros({0, features_.size(1)}, features_.options());
  if (model_->options().item_input != NodeInput::kId) {
    const RowRequest request = feature_exchange_->plan(int64Tensor(in.feature_nodes));
    feature_rows = feature_exchange_->fetch(request, features_);
    totals.feature_bytes += static_cast<double>(request.rowsServedToOthers(rank_) *
                                                features_.size(1) * 4);
  }
  totals.id_bytes += static_cast<double>(ids_->bytesSent() - id_bytes);
  totals.exchange += secondsSince(t);
  const auto compute_start = Clock::now();  // the adapter's forward is the model's work
  inputs.h0 = model_->inputs(static_cast<std::int64_t>(nodes.size()),
                             int64Tensor(in.id_at).to(device_), inputs.id_rows.rows,
                             int64Tensor(in.feature_at).to(device_), feature_rows);
  totals.compute += secondsSince(compute_start);
  return inputs;
}

void Trainer::Impl::objectiveStep(const MiniBatch& batch, const std::vector<BlockTensors>& blocks,
                                  EpochTotals& totals) {
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
  const auto num_inputs = static_cast<std::int64_t>(batch.input_nodes.size());
  const auto num_triple_rows = 3 * static_cast<std::int64_t>(triples.size());
  ShardedEmbedding::Rows id_rows;
  torch::Tensor out, h0;  // output and layer-0 rows of `nodes`
  torch::Tensor views[2];  // --ssl simgcl: the perturbed views' output rows of `nodes`
  // The forward under --precision's autocast (none for fp32); the losses below run in fp32.
  c10::optional<AutocastScope> autocast;
  autocast.emplace(device_, autocast_);
  if (full()) {
    // Every owned row goes through the whole graph; the batch's rows (output and layer 0)
    // then come from their owners in one differentiable fetch.
    auto t = Clock::now();
    id_rows = ids_->ownedRows();
    const torch::Tensor owned_h0 = propagation_->inputs(model_, id_rows.rows, features_);
    const torch::Tensor owned_out = propagation_->forward(model_, owned_h0, &totals);
    std::vector<torch::Tensor> owned_rows{owned_out, owned_h0};
    if (simgcl()) {
      const LayerNodes owned = [this](std::int64_t) -> const std::vector<std::int64_t>& {
        return propagation_->ownedNodes();
      };
      for (int view = 0; view < 2; ++view) {
        owned_rows.push_back(propagation_->forward(
            model_, owned_h0, &totals,
            simgclPerturbation(owned, o_.objective.ssl_eps, o_.optim.seed, batch.epoch,
                               batch.step, view)));
      }
    }
    totals.compute += secondsSince(t);
    t = Clock::now();
    const RowExchange& exchange = propagation_->exchange();
    const RowRequest request = exchange.plan(int64Tensor(nodes));
    const torch::Tensor rows = exchange.fetchWithGradient(request, torch::cat(owned_rows, 1));
    const std::int64_t out_dim = owned_out.size(1), in_dim = owned_h0.size(1);
    totals.id_bytes += static_cast<double>((request.rowsServedToOthers(rank_) +
                                            request.rowsAskedOfOthers(rank_)) *
                                           rows.size(1) * rows.element_size());
    totals.exchange += secondsSince(t);
    out = rows.narrow(1, 0, out_dim);
    h0 = rows.narrow(1, out_dim, in_dim);
    if (simgcl()) {
      views[0] = rows.narrow(1, out_dim + in_dim, out_dim);
      views[1] = rows.narrow(1, 2 * out_dim + in_dim, out_dim);
    }
  } else {
    StepInputs inputs = fetchInputs(nodes, totals);
    id_rows = std::move(inputs.id_rows);
    h0 = inputs.h0;
    const auto t = Clock::now();
    for (const Block& b : batch.blocks) totals.sampled_edges += static_cast<double>(b.numEdges());
    const auto seed_rows = static_cast<std::int64_t>(batch.blocks.back().dst_nodes.size());
    out = model_->forward(blocks, h0.narrow(0, 0, num_inputs), seed_rows);
    if (simgcl()) {
      // Layer l's output rows are block l's destinations.
      const LayerNodes destinations = [&batch](std::int64_t l) -> const std::vector<std::int64_t>& {
        return batch.blocks[l].dst_nodes;
      };
      for (int view = 0; view < 2; ++view) {
        views[view] = model_->forward(
            blocks, h0.narrow(0, 0, num_inputs), seed_rows,
            simgclPerturbation(destinations, o_.objective.ssl_eps, o_.optim.seed, batch.epoch,
                               batch.step, view));
      }
    }
    totals.compute += secondsSince(t);
  }
  autocast.reset();
  if (autocast_) {
    out = out.to(torch::kFloat32);
    h0 = h0.to(torch::kFloat32);
    for (torch::Tensor& view : views) {
      if (view.defined()) view = view.to(torch::kFloat32);
    }
  }
  const auto t = Clock::now();
  const LossValue main = objectiveLoss(batch, out, h0, o_.objective, o_.sampling.negatives,
                                       o_.optim.l2, o_.optim.batch_size, *group_);
  torch::Tensor loss = main.loss;
  if (simgcl()) {
    const torch::Tensor ssl =
        simgclLoss(*group_, batch, views[0], views[1], o_.objective.ssl_temperature);
    loss = loss + ssl * (o_.objective.ssl_weight / static_cast<double>(o_.optim.batch_size));
    totals.ssl_loss_sum += ssl.item<double>();
  }
  if (triples.size() > 0) {
    const LossValue transr = transrLoss(model_, triples, h0.narrow(0, num_inputs, num_triple_rows),
                                        o_.optim.l2, kg_norm_);
    loss = loss + transr.loss;
    totals.kg_loss_sum += transr.sum;
    totals.kg_triples += static_cast<double>(triples.size());
  }
  totals.loss_sum += main.sum;
  totals.seeds += static_cast<double>(batch.users.size());
  totals.compute += secondsSince(t);
  finishStep(loss, id_rows, optimizer_.get(), totals);
  totals.sample_bytes += static_cast<double>((remote_ ? remote_->bytesSent() : 0) - sample_bytes);
}

void Trainer::Impl::kgStep(std::int64_t epoch, std::int64_t step, EpochTotals& totals) {
  const KgTriples triples = kg_->sample(epoch, step, kg_steps_);
  ShardedEmbedding::Rows id_rows;
  torch::Tensor rows;
  if (full()) {
    const auto t = Clock::now();
    id_rows = ids_->ownedRows();
    const torch::Tensor owned_h0 = propagation_->inputs(model_, id_rows.rows, features_);
    const RowExchange& exchange = propagation_->exchange();
    const RowRequest request = exchange.plan(int64Tensor(triples.nodes()));
    rows = exchange.fetchWithGradient(request, owned_h0);
    totals.id_bytes += static_cast<double>((request.rowsServedToOthers(rank_) +
                                            request.rowsAskedOfOthers(rank_)) *
                                           rows.size(1) * rows.element_size());
    totals.exchange += secondsSince(t);
  } else {
    StepInputs inputs = fetchInputs(triples.nodes(), totals);
    id_rows = std::move(inputs.id_rows);
    rows = inputs.h0;
  }
  const auto t = Clock::now();
  const LossValue transr = transrLoss(model_, triples, rows, o_.optim.l2, kg_norm_);
  totals.kg_loss_sum += transr.sum;
  totals.kg_triples += static_cast<double>(triples.size());
  totals.compute += secondsSince(t);
  finishStep(transr.loss, id_rows, kg_optimizer_.get(), totals);
}

void Trainer::Impl::finishStep(const torch::Tensor& loss, const ShardedEmbedding::Rows& id_rows,
                               torch::optim::Adam* optimizer, EpochTotals& totals) {
  auto t = Clock::now();
  // A rank whose share of a sampled step is empty has nothing to differentiate; it still
  // takes part in every collective below. (Full-graph losses always depend on the owned
  // rows, so every rank runs the backward and its halo exchanges.)
  if (loss.requires_grad()) scaler_.scaleLoss(loss).backward();
  totals.compute += secondsSince(t);
  t = Clock::now();
  if (sync_) sync_->finalize();
  // fp16: unscale, and step only if no rank saw an overflow (all ranks agree, so all skip
  // the same steps and their collectives together).
  bool finite = true;
  if (scaler_.enabled()) {
    std::vector<torch::Tensor> grads{id_rows.rows.grad()};
    for (const torch::Tensor& p : model_->parameters()) grads.push_back(p.grad());
    torch::Tensor overflow = torch::full({1}, scaler_.unscale(grads) ? 0 : 1, torch::kInt32);
    group_->allReduce(overflow)->wait();
    finite = overflow.item<int>() == 0;
    scaler_.update(finite);
  }
  if (sync_) {
    if (finite) optimizer->step();
    // All gradients, not only the stepped optimizer's: the synchroniser wrote every one.
    optimizer_->zero_grad();
  }
  totals.allreduce += secondsSince(t);
  if (!finite) return;
  t = Clock::now();
  const std::int64_t id_bytes = ids_->bytesSent();
  ids_->step(id_rows);
  totals.exchange += secondsSince(t);
  totals.id_bytes += static_cast<double>(ids_->bytesSent() - id_bytes);
}

void Trainer::Impl::reportProgress(std::int64_t epoch, std::int64_t first_step,
                                   std::int64_t steps_done, const EpochTotals& totals,
                                   Clock::time_point epoch_start) {
  if (rank_ != 0 || o_.run.quiet || secondsSince(last_progress_) < kProgressSeconds) return;
  last_progress_ = Clock::now();
  const double elapsed = secondsSince(epoch_start);
  const std::int64_t steps = stepsPerEpoch();
  spdlog::info("epoch {}: step {}/{} ({:.0f}%), {:.0f}s, about {:.0f}s left; mean loss so far {:.4f} "
               "(rank 0's seeds)", epoch + 1, steps_done, steps, 100.0 * steps_done / steps,
               elapsed, elapsed / static_cast<double>(steps_done - first_step) * (steps - steps_done),
               totals.seeds > 0 ? totals.loss_sum / totals.seeds : 0.0);
}

bool Trainer::Impl::agreeToStop(std::int64_t epoch, std::int64_t next_step,
                                const EpochTotals& totals) {
  if (o_.run.checkpoint_dir.empty()) return false;
  // A request may reach only some ranks: they all stop at the same step or none does.
  const bool requested = hooks_.stop_requested && hooks_.stop_requested();
  torch::Tensor stop = torch::full({1}, requested ? 1 : 0, torch::kInt32);
  group_->allReduce(stop)->wait();
  if (stop.item<int>() == 0) return false;
  if (hooks_.stop_agreed) hooks_.stop_agreed();
  writeCheckpoint(epoch, next_step, totals, /*finished=*/false);
  return true;
}

void Trainer::Impl::writeCheckpoint(std::int64_t epoch, std::int64_t next_step,
                                    const EpochTotals& totals, bool finished) {
  namespace fs = std::filesystem;
  const std::string& dir = o_.run.checkpoint_dir;
  // Whatever was there stops being a checkpoint before any of its files is replaced: a crash
  // from here on leaves a folder without a manifest, which is never loaded.
  if (rank_ == 0) {
    fs::create_directories(dir);
    fs::remove(checkpointManifestPath(dir));
  }
  const torch::Tensor table = gatherTable(*group_, data_.shard, ids_->table());
  group_->barrier()->wait();
  {
    torch::serialize::OutputArchive archive;
    ids_->save(archive);
    if (optimizer_) writeAdamOnHost(*optimizer_, device_, "adam", archive);
    if (kg_optimizer_) writeAdamOnHost(*kg_optimizer_, device_, "kg_adam", archive);
    archive.write("epoch_totals", totals.toTensor());
    AtomicOutput out(rankStateFile(dir, rank_));
    archive.save_to(out.tempPath());
    out.commit();
  }
  if (rank_ == 0) {
    {
      AtomicOutput out(dir + "/model.pt");
      torch::save(hostCopy(model_), out.tempPath());
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
    CheckpointManifest m;
    m.epoch = epoch;
    m.next_step = next_step;
    m.finished = finished;
    m.ranks = world_;
    m.dataset = data_.dataset_path;
    m.feature_dim = model_->options().feature_dim;
    m.num_relations = model_->options().num_relations;
    m.options = o_;
    m.metrics = last_metrics_;
    m.loss_scale = scaler_.scale();
    m.loss_scale_finite_steps = scaler_.finiteSteps();
    writeCheckpointManifest(dir, m);
  }
  group_->barrier()->wait();  // the checkpoint is complete when any rank returns
  if (rank_ == 0 && !o_.run.quiet) {
    spdlog::info("checkpoint written to {} (epoch {}, next step {})", dir,
                 epoch + 1, next_step);
  }
}

std::pair<std::int64_t, std::int64_t> Trainer::Impl::resume(const std::string& dir,
                                                            EpochTotals& totals) {
  const CheckpointManifest m = readCheckpointManifest(dir);
  if (m.ranks != world_) {
    throw ConfigError(fmt::format("--resume {}: written by {} ranks, this job has {}", dir,
                                  m.ranks, world_));
  }
  const nlohmann::json saved = trajectoryOptions(m.options).flatten();
  const nlohmann::json now = trajectoryOptions(o_).flatten();
  for (const auto& [key, value] : saved.items()) {
    if (!now.contains(key) || now.at(key) != value) {
      throw ConfigError(fmt::format(
          "--resume {}: the checkpoint was trained with {} {}, this run asks for {}; resume "
          "with the same settings", dir, key.substr(key.rfind('/') + 1), value.dump(),
          now.contains(key) ? now.at(key).dump() : std::string("nothing")));
    }
  }
  std::int64_t epoch = m.epoch;
  const std::int64_t next_step = m.next_step;
  if (m.finished) ++epoch;
  last_metrics_ = m.metrics;
  scaler_.restore(m.loss_scale, m.loss_scale_finite_steps);
  loadWeightsInPlace(model_, dir);
  torch::serialize::InputArchive archive;
  archive.load_from(rankStateFile(dir, rank_));
  ids_->load(archive);
  if (optimizer_) readAdam(*optimizer_, device_, "adam", archive);
  if (kg_optimizer_) readAdam(*kg_optimizer_, device_, "kg_adam", archive);
  torch::Tensor saved_totals;
  archive.read("epoch_totals", saved_totals);
  totals = EpochTotals::fromTensor(saved_totals);
  if (rank_ == 0 && !o_.run.quiet) {
    spdlog::info("resuming from {}: epoch {}, step {}", dir, epoch + 1, next_step);
  }
  return {epoch, next_step};
}

TrainResult Trainer::Impl::run() {
  const bool lead = rank_ == 0;
  std::int64_t first_epoch = 0, first_step = 0;
  EpochTotals resumed;
  if (!o_.run.resume_dir.empty()) std::tie(first_epoch, first_step) = resume(o_.run.resume_dir, resumed);
  if (lead && !o_.run.metrics_out.empty()) {
    metrics_out_ = std::make_unique<std::ofstream>(
        o_.run.metrics_out, o_.run.resume_dir.empty() ? std::ios::trunc : std::ios::app);
    if (!*metrics_out_) {
      throw ConfigError(fmt::format("cannot write --metrics-out {}", o_.run.metrics_out));
    }
  }
  auto emit = [&](const nlohmann::json& line) {
    if (metrics_out_) *metrics_out_ << line.dump() << "\n" << std::flush;
  };
  if (lead && !o_.run.quiet) {
    spdlog::info("training {} ({} input, {} relations) on {} rank{} ({} backend, {}), {} propagation"
                 "{}: {} steps of {} seeds per epoch",
                 o_.model.name, o_.model.features, o_.model.relations, world_,
                 world_ == 1 ? "" : "s", group_->backendName(),
                 autocast_ ? fmt::format("{}, {}", device_.str(), o_.optim.precision) : device_.str(),
                 o_.sampling.propagation,
                 full() ? std::string()
                        : fmt::format(" (fanouts {}{})", fmt::join(o_.sampling.fanouts, ","),
                                      world_ > 1 && !o_.sampling.remote_neighbours
                                          ? ", local part + halo only"
                                          : ""),
                 sampler_->stepsPerEpoch(), o_.optim.batch_size);
    const ObjectiveOptions& b = o_.objective;
    spdlog::info("objective: {} loss ({}{}){}, {} initialisation", b.loss, b.similarity,
                 b.loss == "softmax" ? fmt::format(", temperature {}", b.temperature)
                 : b.loss == "ccl"   ? fmt::format(", margin {}, negative weight {}", b.margin,
                                                   b.negative_weight)
                                     : std::string(),
                 b.ssl == "none" ? std::string()
                                 : fmt::format(" + {} {} x InfoNCE (eps {}, temperature {})", b.ssl,
                                               b.ssl_weight, b.ssl_eps, b.ssl_temperature),
                 b.init);
    if (kg_) {
      spdlog::info("KG loss (TransR) {}: {}", o_.optim.kg_loss,
                   kg_steps_ > 0 ? fmt::format("{} KG steps of {} triples after the BPR steps",
                                               kg_steps_, o_.optim.kg_batch_size)
                                 : std::string("added to every BPR step"));
    }
  }
  TrainResult result;
  result.popularity_metrics = evaluator_->evaluatePopularity();
  if (first_epoch == 0 && first_step == 0) {
    emit({{"baseline", "popularity"}, {"metrics", result.popularity_metrics}});
  }
  for (std::int64_t epoch = first_epoch; epoch < o_.optim.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    EpochTotals totals = epoch == first_epoch ? resumed : EpochTotals{};
    if (!runEpoch(epoch, epoch == first_epoch ? first_step : 0, totals)) {
      result.stopped = true;
      return result;
    }
    nlohmann::json line = epochMetricsLine(*group_, epoch + 1, totals, secondsSince(epoch_start),
                                           stepsPerEpoch(), dense_bytes_, kg_ != nullptr,
                                           simgcl());
    const bool last = epoch + 1 == o_.optim.epochs;
    if ((o_.run.eval_every > 0 && (epoch + 1) % o_.run.eval_every == 0) || last) {
      model_->eval();
      torch::NoGradGuard no_grad;
      last_metrics_ = evaluator_->evaluate(model_, ownedInputs());
      line.update(last_metrics_);
    }
    if (lead) {
      if (!o_.run.quiet) {
        std::string shown = fmt::format("epoch {}/{}: loss {:.5f}, {:.2f}s", epoch + 1,
                                        o_.optim.epochs, line["loss"].get<double>(),
                                        line["epoch_seconds"].get<double>());
        for (std::int64_t k : o_.run.ks) {
          const std::string key = fmt::format("recall@{}", k);
          if (line.contains(key)) {
            shown += fmt::format(", recall@{} {:.4f}, ndcg@{} {:.4f}", k, line[key].get<double>(),
                                 k, line[fmt::format("ndcg@{}", k)].get<double>());
          }
        }
        spdlog::info("{}", shown);
      }
      emit(line);
    }
    result.epochs.push_back(std::move(line));
    if (!o_.run.checkpoint_dir.empty() &&
        (last || (o_.run.checkpoint_every > 0 && (epoch + 1) % o_.run.checkpoint_every == 0))) {
      writeCheckpoint(epoch, 0, EpochTotals{}, /*finished=*/true);
    }
  }
  result.final_metrics = last_metrics_;
  return result;
}

Trainer::Trainer(const TrainOptions& options, std::shared_ptr<ProcessGroup> group,
                 TrainHooks hooks) {
  if (options.model.name == "graph-filter") {
    filter_ = std::make_unique<GraphFilterTrainer>(resolveTrainOptions(options), std::move(group));
  } else {
    impl_ = std::make_unique<Impl>(options, std::move(group), std::move(hooks));
  }
}
Trainer::~Trainer() = default;
TrainResult Trainer::run() { return filter_ ? filter_->run() : impl_->run(); }

nlohmann::json evaluateCheckpoint(const std::string& dir, std::vector<std::int64_t> ks,
                                  const std::string& exposure_out) {
  const CheckpointManifest m = readCheckpointManifest(dir);
  if (m.options.model.name == "graph-filter") {
    return evaluateGraphFilterCheckpoint(dir, m, ks.empty() ? m.options.run.ks : ks, exposure_out);
  }
  return CheckpointModel(dir).evaluate(std::move(ks), exposure_out);
}

}  // namespace kgrec
