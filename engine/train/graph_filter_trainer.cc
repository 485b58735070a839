#include "engine/train/graph_filter_trainer.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include <spdlog/spdlog.h>
#include <torch/serialize.h>

#include "comm/local_process_group.h"
#include "engine/common/atomic_output.h"
#include "engine/common/error.h"
#include "engine/train/distributed_evaluator.h"
#include "engine/train/training_data.h"

namespace kgrec {
namespace {

// The fitted state beside checkpoint.json: the SVD of R~ (empty tensors without one).
std::string filterStateFile(const std::string& dir) { return dir + "/graph_filter.pt"; }

// A graph filter uses the user-item interactions only.
constexpr const char* kRelations = "interactions";

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Every user's training items: each part holds its own users' interactions, so the parts'
// lists together are the dataset's. Collective on more than one rank.
Csr everyUsersTrainingItems(ProcessGroup& group, const Shard& shard) {
  const std::int64_t num_users = shard.nodes.num_users;
  if (group.size() == 1) return userItemCsr(shard.train, num_users);
  const auto n = static_cast<std::int64_t>(shard.train.size());
  torch::Tensor pairs = torch::empty({n, 2}, torch::kInt32);
  auto* p = pairs.data_ptr<std::int32_t>();
  for (const Interaction& x : shard.train) {
    *p++ = x.user;
    *p++ = x.item;
  }
  const torch::Tensor all = group.allGatherV(pairs)->result().tensor.contiguous();
  std::vector<Interaction> interactions(static_cast<std::size_t>(all.size(0)));
  const auto* q = all.data_ptr<std::int32_t>();
  for (Interaction& x : interactions) {
    x.user = *q++;
    x.item = *q++;
  }
  return userItemCsr(interactions, num_users);
}

GraphFilterOptions optionsOf(const TrainOptions& o, const Csr& train_items, std::int64_t num_items) {
  return graphFilterOptions(o.filter, o.optim.seed, std::min(train_items.numRows(), num_items));
}

UserScorer scorerOf(const GraphFilter& filter) {
  return [&filter](const torch::Tensor& users) { return filter.scores(users); };
}

void writeFilterState(const std::string& dir, const GraphFilter& filter) {
  AtomicOutput out(filterStateFile(dir));
  const TruncatedSvd& svd = filter.svd();
  torch::serialize::OutputArchive archive;
  archive.write("right_vectors", svd.right_vectors.defined() ? svd.right_vectors : torch::empty({0}));
  archive.write("singular_values",
                svd.singular_values.defined() ? svd.singular_values : torch::empty({0}));
  archive.save_to(out.tempPath());
  out.commit();
}

}  // namespace

GraphFilterOptions graphFilterOptions(const FilterOptions& f, std::uint64_t seed,
                                      std::int64_t max_rank) {
  GraphFilterOptions o = graphFilterPreset(f.preset);
  if (f.ideal_weight >= 0.0) o.ideal_weight = f.ideal_weight;
  o.rank = f.rank > 0 ? f.rank : std::min(o.rank, max_rank);
  if (!f.coefficients.empty()) o.coefficients = f.coefficients;
  if (!f.sharpen.empty()) o.sharpen = f.sharpen;
  o.item_matrix = f.item_matrix;
  o.higher_powers = f.higher_powers;
  o.svd.rank = o.rank;
  o.svd.seed = seed;
  return o;
}

GraphFilterTrainer::GraphFilterTrainer(TrainOptions options, std::shared_ptr<ProcessGroup> group)
    : o_(std::move(options)), group_(std::move(group)) {}

TrainResult GraphFilterTrainer::run() {
  const bool lead = group_->rank() == 0;
  const TrainingData data = loadTrainingData(o_.run.input, *group_, kRelations);
  const DistributedEvaluator evaluator(group_, data.shard, data.stats, o_.run.ks);
  std::unique_ptr<std::ofstream> metrics_out;
  if (lead && !o_.run.metrics_out.empty()) {
    metrics_out = std::make_unique<std::ofstream>(o_.run.metrics_out, std::ios::trunc);
    if (!*metrics_out) throw ConfigError(fmt::format("cannot write --metrics-out {}", o_.run.metrics_out));
  }
  auto emit = [&](const nlohmann::json& line) {
    if (metrics_out) *metrics_out << line.dump() << "\n" << std::flush;
  };
  TrainResult result;
  result.popularity_metrics = evaluator.evaluatePopularity();
  emit({{"baseline", "popularity"}, {"metrics", result.popularity_metrics}});

  const auto fit_start = std::chrono::steady_clock::now();
  const std::int64_t num_items = data.shard.nodes.num_items;
  const Csr train_items = everyUsersTrainingItems(*group_, data.shard);
  const GraphFilterOptions fo = optionsOf(o_, train_items, num_items);
  const GraphFilter filter(train_items, num_items, fo);
  const double fit_seconds = secondsSince(fit_start);
  if (lead && !o_.run.quiet) {
    spdlog::info("graph filter {} fitted in {:.2f}s{}: {} users, {} items, item matrix {}, ideal "
                 "part {}, higher powers {}", o_.filter.preset, fit_seconds,
                 group_->size() > 1 ? fmt::format(" on each of {} ranks", group_->size()) : "",
                 data.shard.nodes.num_users, num_items,
                 filter.denseItemMatrix() ? "dense" : "factored (R~^T R~)",
                 fo.ideal_weight > 0 ? fmt::format("rank {} x {}", fo.rank, fo.ideal_weight)
                                     : std::string("none"),
                 filter.lowRankHigherPowers() ? "low-rank" : "exact");
  }
  result.final_metrics = toJson(evaluator.rankUsers(scorerOf(filter)));
  nlohmann::json line = {{"epoch", 1}, {"ranks", group_->size()}, {"epoch_seconds", fit_seconds}};
  line.update(result.final_metrics);
  emit(line);
  result.epochs.push_back(line);

  if (lead && !o_.run.checkpoint_dir.empty()) {
    const std::string& dir = o_.run.checkpoint_dir;
    std::filesystem::create_directories(dir);
    std::filesystem::remove(checkpointManifestPath(dir));  // no manifest until complete
    writeFilterState(dir, filter);
    CheckpointManifest m;
    m.finished = true;
    m.dataset = data.dataset_path;
    m.options = o_;
    m.metrics = result.final_metrics;
    writeCheckpointManifest(dir, m);
    if (!o_.run.quiet) spdlog::info("checkpoint written to {}", dir);
  }
  // Nobody reports success before the checkpoint is complete.
  if (group_->size() > 1) group_->barrier()->wait();
  return result;
}

GraphFilter loadGraphFilter(const std::string& dir, const CheckpointManifest& m,
                            const std::vector<Interaction>& train, const NodeSpace& nodes) {
  const std::string path = filterStateFile(dir);
  if (!std::filesystem::exists(path)) {
    throw FormatError(fmt::format("{}: missing; the graph-filter checkpoint {} is incomplete, "
                                  "train it again with --ckpt", path, dir));
  }
  TruncatedSvd svd;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    archive.read("right_vectors", svd.right_vectors);
    archive.read("singular_values", svd.singular_values);
  } catch (const c10::Error& e) {
    throw FormatError(fmt::format("{}: not a graph-filter state file: {}", path, e.what_without_backtrace()));
  }
  if (svd.right_vectors.numel() == 0) svd = TruncatedSvd();
  const std::int64_t num_items = nodes.num_items;
  const Csr train_items = userItemCsr(train, nodes.num_users);
  const GraphFilterOptions fo = optionsOf(m.options, train_items, num_items);
  if (svd.right_vectors.defined() &&
      (svd.right_vectors.dim() != 2 || svd.right_vectors.size(0) != num_items ||
       svd.right_vectors.size(1) != fo.rank)) {
    throw FormatError(fmt::format("{}: right vectors {} do not fit the {} items and rank {} of "
                                  "{}", path, c10::str(svd.right_vectors.sizes()), num_items,
                                  fo.rank, m.dataset));
  }
  return GraphFilter(train_items, num_items, fo, std::move(svd));
}

nlohmann::json evaluateGraphFilterCheckpoint(const std::string& dir, const CheckpointManifest& m,
                                             const std::vector<std::int64_t>& ks,
                                             const std::string& exposure_out) {
  const auto self = std::make_shared<LocalProcessGroup>();
  const TrainingData data = loadTrainingData(m.dataset, *self, kRelations);
  const DistributedEvaluator evaluator(self, data.shard, data.stats, ks);
  const GraphFilter filter = loadGraphFilter(dir, m, data.shard.train, data.shard.nodes);
  return metricsWithBaseline(evaluator, evaluator.rankUsers(scorerOf(filter)), exposure_out);
}

}  // namespace kgrec
