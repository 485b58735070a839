#pragma once
// Single-process training of a recommender on one device: BPR triples from the sampler,
// Adam, a progress line and a JSON metrics line per epoch, full-ranking evaluation every
// `eval_every` epochs and a checkpoint that `kgrec eval` can recompute the metrics from.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/graph/dataset.h"

namespace kgrec {

struct TrainOptions {
  std::string dataset_path;   // recorded in the checkpoint so that `kgrec eval` can reload it
  std::string model = "lightgcn";
  std::int64_t epochs = 10;
  std::int64_t batch_size = 2048;
  std::int64_t dim = 64;
  std::int64_t layers = 3;
  double lr = 0.001;
  double l2 = 1e-4;
  std::string device = "cpu";  // cpu | cuda | cuda:N
  std::uint64_t seed = 2020;
  std::int64_t eval_every = 1;  // 0: evaluate only after the last epoch
  std::vector<std::int64_t> ks = {20};
  std::string metrics_out;     // JSON lines; empty: none
  std::string checkpoint_dir;  // empty: none
  bool quiet = false;          // no per-epoch log lines (tests)
};

nlohmann::json toJson(const TrainOptions& options);
TrainOptions trainOptionsFromJson(const nlohmann::json& json);

struct EpochRecord {
  std::int64_t epoch = 0;
  double loss = 0.0;
  double epoch_seconds = 0.0;  // sampling + training, without evaluation
  nlohmann::json metrics;      // recall@K, ndcg@K, precision@K, eval_seconds when evaluated
};

struct TrainResult {
  std::vector<EpochRecord> epochs;
  nlohmann::json final_metrics;     // of the last evaluation
  nlohmann::json popularity_metrics;  // the baseline, by the same evaluator
};

// Throws ConfigError for invalid options. The dataset must have training interactions.
TrainResult train(const Dataset& dataset, const TrainOptions& options);

// Recomputes the metrics of a checkpoint written by train().
nlohmann::json evaluateCheckpoint(const std::string& checkpoint_dir, std::vector<std::int64_t> ks = {});

}  // namespace kgrec
