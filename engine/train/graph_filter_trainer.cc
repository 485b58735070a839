#include "engine/train/graph_filter_trainer.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include <spdlog/spdlog.h>
#include <torch/serialize.h>

#include "engine/common/atomic_output.h"
#include "engine/common/error.h"
#include "engine/eval/ranking_evaluator.h"
#include "engine/store/dataset_io.h"

namespace kgrec {
namespace {

// The fitted state beside checkpoint.json: the SVD of R~ (empty tensors without one).
std::string filterStateFile(const std::string& dir) { return dir + "/graph_filter.pt"; }

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The training and test items of each user, and the evaluator over them.
struct Evaluation {
  Csr train_items, test_items;
  std::unique_ptr<RankingEvaluator> evaluator;

  Evaluation(const Dataset& d, std::vector<std::int64_t> ks)
      : train_items(userItemCsr(d.train, d.nodes.num_users)),
        test_items(userItemCsr(d.test, d.nodes.num_users)) {
    RankingEvalOptions eo;
    eo.ks = std::move(ks);
    eo.cold_items = d.cold_items;
    evaluator = std::make_unique<RankingEvaluator>(train_items, test_items, d.nodes.num_items, eo);
  }
  nlohmann::json of(const GraphFilter& filter) const {
    return toJson(evaluator->evaluate([&](const torch::Tensor& users) { return filter.scores(users); }));
  }
};

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

GraphFilterTrainer::GraphFilterTrainer(TrainOptions options, const ProcessGroup& group)
    : o_(std::move(options)) {
  if (std::filesystem::is_directory(o_.run.input) || group.size() > 1) {
    throw ConfigError(fmt::format(
        "--model graph-filter is fitted in one process on a dataset file (in seconds to "
        "minutes); {} {}: give the dataset file the parts were cut from, without mpirun. "
        "Scoring each rank's own users is not built yet.",
        o_.run.input,
        group.size() > 1 ? fmt::format("runs on {} ranks", group.size()) : "is a partition folder"));
  }
}

TrainResult GraphFilterTrainer::run() {
  const Dataset d = readDataset(o_.run.input);
  const Evaluation evaluation(d, o_.run.ks);
  std::unique_ptr<std::ofstream> metrics_out;
  if (!o_.run.metrics_out.empty()) {
    metrics_out = std::make_unique<std::ofstream>(o_.run.metrics_out, std::ios::trunc);
    if (!*metrics_out) throw ConfigError(fmt::format("cannot write --metrics-out {}", o_.run.metrics_out));
  }
  auto emit = [&](const nlohmann::json& line) {
    if (metrics_out) *metrics_out << line.dump() << "\n" << std::flush;
  };
  TrainResult result;
  result.popularity_metrics =
      toJson(evaluation.evaluator->evaluate(popularityScorer(d.train, d.nodes.num_items)));
  emit({{"baseline", "popularity"}, {"metrics", result.popularity_metrics}});

  const GraphFilterOptions fo = graphFilterOptions(
      o_.filter, o_.optim.seed, std::min(d.nodes.num_users, d.nodes.num_items));
  const auto fit_start = std::chrono::steady_clock::now();
  const GraphFilter filter(evaluation.train_items, d.nodes.num_items, fo);
  const double fit_seconds = secondsSince(fit_start);
  if (!o_.run.quiet) {
    spdlog::info("graph filter {} fitted in {:.2f}s: {} users, {} items, item matrix {}, ideal "
                 "part {}, higher powers {}", o_.filter.preset, fit_seconds, d.nodes.num_users, d.nodes.num_items,
                 filter.denseItemMatrix() ? "dense" : "factored (R~^T R~)",
                 fo.ideal_weight > 0 ? fmt::format("rank {} x {}", fo.rank, fo.ideal_weight)
                                     : std::string("none"),
                 filter.lowRankHigherPowers() ? "low-rank" : "exact");
  }
  result.final_metrics = evaluation.of(filter);
  nlohmann::json line = {{"epoch", 1}, {"ranks", 1}, {"epoch_seconds", fit_seconds}};
  line.update(result.final_metrics);
  emit(line);
  result.epochs.push_back(line);

  if (!o_.run.checkpoint_dir.empty()) {
    const std::string& dir = o_.run.checkpoint_dir;
    std::filesystem::create_directories(dir);
    std::filesystem::remove(checkpointManifestPath(dir));  // no manifest until complete
    {
      AtomicOutput out(filterStateFile(dir));
      const TruncatedSvd& svd = filter.svd();
      torch::serialize::OutputArchive archive;
      archive.write("right_vectors", svd.right_vectors.defined() ? svd.right_vectors : torch::empty({0}));
      archive.write("singular_values",
                    svd.singular_values.defined() ? svd.singular_values : torch::empty({0}));
      archive.save_to(out.tempPath());
      out.commit();
    }
    CheckpointManifest m;
    m.finished = true;
    m.dataset = o_.run.input;
    m.options = o_;
    m.metrics = result.final_metrics;
    writeCheckpointManifest(dir, m);
    if (!o_.run.quiet) spdlog::info("checkpoint written to {}", dir);
  }
  return result;
}

nlohmann::json evaluateGraphFilterCheckpoint(const std::string& dir, const CheckpointManifest& m,
                                             const std::vector<std::int64_t>& ks) {
  const Dataset d = readDataset(m.dataset);
  torch::serialize::InputArchive archive;
  archive.load_from(filterStateFile(dir));
  TruncatedSvd svd;
  archive.read("right_vectors", svd.right_vectors);
  archive.read("singular_values", svd.singular_values);
  if (svd.right_vectors.numel() == 0) svd = TruncatedSvd();
  const Evaluation evaluation(d, ks);
  const GraphFilter filter(evaluation.train_items, d.nodes.num_items,
                           graphFilterOptions(m.options.filter, m.options.optim.seed,
                                              std::min(d.nodes.num_users, d.nodes.num_items)),
                           std::move(svd));
  return evaluation.of(filter);
}

}  // namespace kgrec
