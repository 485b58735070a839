#include "engine/train/trainer.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>
#include <torch/cuda.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include "engine/common/atomic_output.h"
#include "engine/common/error.h"
#include "engine/eval/ranking_evaluator.h"
#include "engine/graph/normalized_adjacency.h"
#include "engine/store/dataset_io.h"
#include "models/lightgcn.h"
#include "sampler/bpr_sampler.h"

namespace kgrec {

namespace {

constexpr const char* kCheckpointKind = "kgrec-checkpoint";
constexpr int kCheckpointVersion = 1;

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void validate(const TrainOptions& o) {
  if (o.model != "lightgcn") {
    throw ConfigError(fmt::format("--model {}: unknown model; this build trains: lightgcn", o.model));
  }
  auto positive = [](std::int64_t v, const char* flag) {
    if (v <= 0) throw ConfigError(fmt::format("{} must be positive, got {}", flag, v));
  };
  positive(o.epochs, "--epochs");
  positive(o.batch_size, "--batch-size");
  positive(o.dim, "--dim");
  if (o.layers < 0) throw ConfigError(fmt::format("--layers must be >= 0, got {}", o.layers));
  if (!(o.lr > 0.0)) throw ConfigError(fmt::format("--lr must be positive, got {}", o.lr));
  if (o.l2 < 0.0) throw ConfigError(fmt::format("--l2 must be >= 0, got {}", o.l2));
  if (o.eval_every < 0) throw ConfigError("--eval-every must be >= 0");
  for (std::int64_t k : o.ks) positive(k, "--topk");
}

torch::Device parseDevice(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw ConfigError(fmt::format("--device {}: no CUDA device is available (or this LibTorch "
                                    "was built without CUDA); use --device cpu", name));
    }
    return torch::Device(name);
  }
  throw ConfigError(fmt::format("--device {}: expected cpu, cuda or cuda:N", name));
}

// Everything a run and an evaluation of its checkpoint share.
struct ModelContext {
  Csr train_items, test_items;
  torch::Device device = torch::kCPU;
  LightGcn model{nullptr};

  ModelContext(const Dataset& d, const TrainOptions& o)
      : train_items(userItemCsr(d.train, d.nodes.num_users)),
        test_items(userItemCsr(d.test, d.nodes.num_users)),
        device(parseDevice(o.device)) {
    LightGcnOptions mo;
    mo.num_users = d.nodes.num_users;
    mo.num_items = d.nodes.num_items;
    mo.dim = o.dim;
    mo.layers = o.layers;
    model = LightGcn(mo, CsrTensors::from(normalizedInteractionGraph(d), device));
  }

  nlohmann::json evaluate(const std::vector<std::int64_t>& ks, std::int64_t num_items,
                          const std::vector<std::int32_t>& cold_items) {
    RankingEvalOptions eo;
    eo.ks = ks;
    eo.cold_items = cold_items;
    RankingEvaluator evaluator(train_items, test_items, num_items, eo);
    torch::NoGradGuard no_grad;
    UserItemEmbeddings e = model->propagate();
    return toJson(evaluator.evaluate(innerProductScorer(e.users, e.items)));
  }
};

void writeCheckpoint(const std::string& dir, const TrainOptions& o, const LightGcn& model,
                     std::int64_t epoch, const nlohmann::json& metrics) {
  std::filesystem::create_directories(dir);
  {
    AtomicOutput out(dir + "/model.pt");
    torch::save(model, out.tempPath());
    out.commit();
  }
  // The manifest goes last: a checkpoint without it is incomplete and is never loaded.
  nlohmann::json manifest = {{"kind", kCheckpointKind},
                             {"version", kCheckpointVersion},
                             {"epoch", epoch},
                             {"options", toJson(o)},
                             {"metrics", metrics}};
  writeFileAtomically(dir + "/checkpoint.json", manifest.dump(2) + "\n");
}

}  // namespace

nlohmann::json toJson(const TrainOptions& o) {
  return {{"dataset", o.dataset_path}, {"model", o.model},   {"epochs", o.epochs},
          {"batch_size", o.batch_size}, {"dim", o.dim},      {"layers", o.layers},
          {"lr", o.lr},                 {"l2", o.l2},        {"device", o.device},
          {"seed", o.seed},             {"eval_every", o.eval_every}, {"ks", o.ks}};
}

TrainOptions trainOptionsFromJson(const nlohmann::json& j) {
  TrainOptions o;
  o.dataset_path = j.at("dataset").get<std::string>();
  o.model = j.at("model").get<std::string>();
  o.epochs = j.at("epochs").get<std::int64_t>();
  o.batch_size = j.at("batch_size").get<std::int64_t>();
  o.dim = j.at("dim").get<std::int64_t>();
  o.layers = j.at("layers").get<std::int64_t>();
  o.lr = j.at("lr").get<double>();
  o.l2 = j.at("l2").get<double>();
  o.device = j.at("device").get<std::string>();
  o.seed = j.at("seed").get<std::uint64_t>();
  o.eval_every = j.at("eval_every").get<std::int64_t>();
  o.ks = j.at("ks").get<std::vector<std::int64_t>>();
  return o;
}

TrainResult train(const Dataset& d, const TrainOptions& o) {
  validate(o);
  if (d.train.empty()) throw ConfigError(fmt::format("dataset {} has no training interactions", d.name));
  torch::manual_seed(o.seed);
  ModelContext ctx(d, o);
  torch::optim::Adam optimizer(ctx.model->parameters(), torch::optim::AdamOptions(o.lr));
  BprSampler sampler(ctx.train_items, d.nodes.num_items, o.seed);

  std::ofstream metrics_out;
  if (!o.metrics_out.empty()) {
    metrics_out.open(o.metrics_out, std::ios::trunc);
    if (!metrics_out) throw ConfigError(fmt::format("cannot write --metrics-out {}", o.metrics_out));
  }
  auto emit = [&](const nlohmann::json& line) {
    if (metrics_out.is_open()) metrics_out << line.dump() << "\n" << std::flush;
  };

  TrainResult result;
  const bool have_test = !d.test.empty();
  if (have_test) {
    RankingEvalOptions eo;
    eo.ks = o.ks;
    eo.cold_items = d.cold_items;
    RankingEvaluator evaluator(ctx.train_items, ctx.test_items, d.nodes.num_items, eo);
    result.popularity_metrics =
        toJson(evaluator.evaluate(popularityScorer(d.train, d.nodes.num_items)));
    emit({{"baseline", "popularity"}, {"metrics", result.popularity_metrics}});
  }
  const auto toIndex = [&](std::vector<std::int32_t>& v, std::int64_t first, std::int64_t count) {
    return torch::from_blob(v.data() + first, {count}, torch::kInt32).to(ctx.device, torch::kInt64);
  };
  const std::string at20 = "@" + std::to_string(o.ks.front());
  for (std::int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    ctx.model->train();
    BprTriples triples = sampler.sampleEpoch(epoch);
    double loss_sum = 0.0;
    std::int64_t batches = 0;
    for (std::int64_t first = 0; first < triples.size(); first += o.batch_size) {
      const std::int64_t count = std::min(o.batch_size, triples.size() - first);
      torch::Tensor loss = ctx.model->bprLoss(toIndex(triples.users, first, count),
                                              toIndex(triples.positives, first, count),
                                              toIndex(triples.negatives, first, count), o.l2);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>();
      ++batches;
    }
    EpochRecord record;
    record.epoch = epoch;
    record.loss = loss_sum / static_cast<double>(batches);
    record.epoch_seconds = secondsSince(start);
    const bool evaluate = have_test && ((o.eval_every > 0 && epoch % o.eval_every == 0) || epoch == o.epochs);
    nlohmann::json line = {{"epoch", epoch}, {"loss", record.loss},
                           {"epoch_seconds", record.epoch_seconds}, {"batches", batches}};
    if (evaluate) {
      ctx.model->eval();
      record.metrics = ctx.evaluate(o.ks, d.nodes.num_items, d.cold_items);
      result.final_metrics = record.metrics;
      line.update(record.metrics);
    }
    emit(line);
    if (!o.quiet) {
      if (evaluate) {
        spdlog::info("epoch {}/{}: loss {:.5f}, {:.2f}s; recall{} {:.4f}, ndcg{} {:.4f} (eval {:.2f}s)",
                     epoch, o.epochs, record.loss, record.epoch_seconds, at20,
                     record.metrics["recall" + at20].get<double>(), at20,
                     record.metrics["ndcg" + at20].get<double>(),
                     record.metrics["eval_seconds"].get<double>());
      } else {
        spdlog::info("epoch {}/{}: loss {:.5f}, {:.2f}s", epoch, o.epochs, record.loss,
                     record.epoch_seconds);
      }
    }
    result.epochs.push_back(std::move(record));
  }
  if (!o.checkpoint_dir.empty()) {
    writeCheckpoint(o.checkpoint_dir, o, ctx.model, o.epochs, result.final_metrics);
  }
  return result;
}

nlohmann::json evaluateCheckpoint(const std::string& dir, std::vector<std::int64_t> ks) {
  const std::string manifest_path = dir + "/checkpoint.json";
  std::ifstream in(manifest_path);
  if (!in) {
    throw FormatError(fmt::format("{}: no checkpoint manifest (checkpoint.json); the run did not "
                                  "finish writing it, or this is not a kgrec checkpoint folder",
                                  dir));
  }
  nlohmann::json manifest;
  TrainOptions o;
  try {
    in >> manifest;
    if (manifest.at("kind") != kCheckpointKind || manifest.at("version") != kCheckpointVersion) {
      throw FormatError(fmt::format("{}: not a version-{} kgrec checkpoint", manifest_path,
                                    kCheckpointVersion));
    }
    o = trainOptionsFromJson(manifest.at("options"));
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(fmt::format("{}: malformed checkpoint manifest: {}", manifest_path, e.what()));
  }
  if (ks.empty()) ks = o.ks;
  Dataset d = readDataset(o.dataset_path);
  ModelContext ctx(d, o);
  torch::load(ctx.model, dir + "/model.pt");
  ctx.model->eval();
  return ctx.evaluate(ks, d.nodes.num_items, d.cold_items);
}

}  // namespace kgrec
