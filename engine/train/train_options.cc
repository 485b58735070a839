#include "engine/train/train_options.h"

#include <cmath>

#include <fmt/format.h>

#include "engine/common/error.h"
#include "engine/train/mixed_precision.h"
#include "models/graph_filter.h"

namespace kgrec {
namespace {

void positive(std::int64_t v, const char* flag) {
  if (v <= 0) throw ConfigError(fmt::format("{} must be positive, got {}", flag, v));
}

void oneOf(const std::string& value, std::initializer_list<const char*> allowed, const char* flag) {
  for (const char* a : allowed) {
    if (value == a) return;
  }
  std::string list;
  for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  throw ConfigError(fmt::format("{} {}: expected one of {}", flag, value, list));
}

// A finite value strictly above `above` (or, with `or_equal`, at least it).
void atLeast(double v, double above, bool or_equal, const char* flag) {
  if (!std::isfinite(v) || v < above || (!or_equal && v == above)) {
    throw ConfigError(fmt::format("{} must be {} {}, got {}", flag, or_equal ? ">=" : ">", above, v));
  }
}

// --similarity's default: the one similarity bpr and ccl take, cosine for softmax.
std::string defaultSimilarity(const std::string& loss) { return loss == "bpr" ? "dot" : "cosine"; }

// The loss, its similarity and the regulariser (docs/objectives.md).
ObjectiveOptions resolveObjective(ObjectiveOptions b) {
  oneOf(b.loss, {"bpr", "softmax", "ccl"}, "--loss");
  oneOf(b.ssl, {"none", "simgcl"}, "--ssl");
  oneOf(b.init, {"normal", "svd"}, "--init");
  if (b.similarity.empty()) b.similarity = defaultSimilarity(b.loss);
  oneOf(b.similarity, {"dot", "cosine"}, "--similarity");
  if (b.loss == "bpr" && b.similarity != "dot") {
    throw ConfigError(fmt::format("--similarity {}: --loss bpr scores by the dot product; "
                                  "cosine applies to --loss softmax", b.similarity));
  }
  if (b.loss == "ccl" && b.similarity != "cosine") {
    throw ConfigError(fmt::format("--similarity {}: --loss ccl is the cosine contrastive loss; "
                                  "it scores by cosine only", b.similarity));
  }
  atLeast(b.temperature, 0.0, false, "--temperature");
  if (!std::isfinite(b.margin) || b.margin < -1.0 || b.margin > 1.0) {
    throw ConfigError(fmt::format("--margin must be a cosine in [-1, 1], got {}", b.margin));
  }
  atLeast(b.negative_weight, 0.0, true, "--negative-weight");
  atLeast(b.ssl_weight, 0.0, true, "--ssl-weight");
  atLeast(b.ssl_eps, 0.0, true, "--ssl-eps");
  atLeast(b.ssl_temperature, 0.0, false, "--ssl-temperature");
  return b;
}

// --model graph-filter is fitted, not trained: what only training has is refused.
TrainOptions resolveFilterOptions(TrainOptions o) {
  const ObjectiveOptions& b = o.objective;
  for (const auto& [given, flag] : {std::pair{b.loss != "bpr", "--loss"},
                                    std::pair{!b.similarity.empty(), "--similarity"},
                                    std::pair{b.ssl != "none", "--ssl"},
                                    std::pair{b.init != "normal", "--init"}}) {
    if (given) {
      throw ConfigError(fmt::format("{} applies to trained models; --model graph-filter is "
                                    "fitted in closed form, without a loss", flag));
    }
  }
  const FilterOptions& f = o.filter;
  graphFilterPreset(f.preset);  // ConfigError naming the presets
  oneOf(f.item_matrix, {"auto", "dense", "factored"}, "--filter-item-matrix");
  oneOf(f.higher_powers, {"auto", "exact", "low-rank"}, "--filter-higher-powers");
  if (f.rank < 0) throw ConfigError(fmt::format("--filter-rank must be >= 0, got {}", f.rank));
  if (!o.run.resume_dir.empty() || o.run.checkpoint_every > 0) {
    throw ConfigError("--model graph-filter is fitted in one pass, without epochs: there is "
                      "nothing to resume (--resume) or to checkpoint midway (--ckpt-every)");
  }
  if (o.run.device != "cpu") {
    throw ConfigError(fmt::format("--device {}: --model graph-filter runs on the CPU", o.run.device));
  }
  if (o.optim.precision != "fp32") {
    throw ConfigError(fmt::format("--precision {}: --model graph-filter is fitted in fp32",
                                  o.optim.precision));
  }
  if (!o.optim.kg_loss.empty() && o.optim.kg_loss != "off") {
    throw ConfigError(fmt::format("--kg-loss {}: --model graph-filter filters the interaction "
                                  "graph and has no KG loss", o.optim.kg_loss));
  }
  o.optim.kg_loss = "off";
  return o;
}

}  // namespace

TrainOptions resolveTrainOptions(TrainOptions o) {
  oneOf(o.model.name, {"lightgcn", "sage", "rgcn", "kgat", "graph-filter"}, "--model");
  oneOf(o.model.features, {"id", "lm", "both"}, "--features");
  oneOf(o.model.relations, {"all", "interactions"}, "--relations");
  oneOf(o.sampling.propagation, {"auto", "full", "sampled"}, "--propagation");
  oneOf(o.comm.backend, {"auto", "mpi", "nccl"}, "--backend");
  positive(o.model.dim, "--dim");
  if (o.model.layers < 0) throw ConfigError(fmt::format("--layers must be >= 0, got {}", o.model.layers));
  if (o.model.bases < 0) throw ConfigError("--bases must be >= 0");
  positive(o.optim.epochs, "--epochs");
  positive(o.optim.batch_size, "--batch-size");
  positive(o.sampling.negatives, "--negatives");
  positive(o.sampling.queue_batches, "--queue");
  positive(o.sampling.threads, "--sampler-threads");
  if (!(o.optim.lr > 0.0)) throw ConfigError(fmt::format("--lr must be positive, got {}", o.optim.lr));
  if (o.optim.l2 < 0.0) throw ConfigError(fmt::format("--l2 must be >= 0, got {}", o.optim.l2));
  if (o.optim.kg_batch_size < 0) throw ConfigError("--kg-batch-size must be >= 0");
  if (o.run.eval_every < 0) throw ConfigError("--eval-every must be >= 0");
  if (o.run.checkpoint_every < 0) throw ConfigError("--ckpt-every must be >= 0");
  for (std::int64_t k : o.run.ks) positive(k, "--topk");
  if (o.run.ks.empty()) throw ConfigError("--topk needs at least one K");
  if (o.run.checkpoint_every > 0 && o.run.checkpoint_dir.empty()) {
    throw ConfigError("--ckpt-every needs --ckpt DIR, the folder to write the checkpoint to");
  }

  if (o.model.name == "graph-filter") return resolveFilterOptions(o);

  SamplingOptions& s = o.sampling;
  if (s.propagation == "auto") s.propagation = o.model.name == "lightgcn" ? "full" : "sampled";
  if (s.propagation == "full") {
    for (const auto& [given, flag] : {std::pair{!s.fanouts.empty(), "--fanouts"},
                                      std::pair{!s.relation_fanouts.empty(), "--relation-fanouts"},
                                      std::pair{s.replace, "--replace"}}) {
      if (given) {
        throw ConfigError(fmt::format("{} applies to --propagation sampled; full-graph "
                                      "propagation uses every neighbour", flag));
      }
    }
  } else {
    if (s.fanouts.empty()) s.fanouts.assign(o.model.layers, 10);
    if (static_cast<std::int64_t>(s.fanouts.size()) != o.model.layers) {
      throw ConfigError(fmt::format("--fanouts gives {} values for {} layers: give one per layer",
                                    s.fanouts.size(), o.model.layers));
    }
  }

  OptimOptions& op = o.optim;
  if (op.kg_loss.empty()) op.kg_loss = o.model.name == "kgat" ? "alternate" : "off";
  oneOf(op.kg_loss, {"off", "sum", "alternate"}, "--kg-loss");
  if (op.kg_loss != "off" && o.model.name != "kgat") {
    throw ConfigError(fmt::format("--kg-loss {}: only kgat has a KG loss (TransR on its relation "
                                  "embeddings); --model {} trains on interactions alone",
                                  op.kg_loss, o.model.name));
  }
  if (op.kg_batch_size == 0) op.kg_batch_size = op.batch_size;
  o.objective = resolveObjective(o.objective);

  const bool cuda = o.run.device.rfind("cuda", 0) == 0;
  if (o.run.device != "cpu" && !cuda) {
    throw ConfigError(fmt::format("--device {}: expected cpu, cuda or cuda:N", o.run.device));
  }
  if (o.comm.backend == "nccl" && !cuda) {
    throw ConfigError("--backend nccl moves CUDA tensors: it needs --device cuda (on CPU ranks "
                      "use --backend mpi or auto)");
  }
  autocastDtype(op.precision, cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU));
  return o;
}

nlohmann::json trajectoryOptions(const TrainOptions& o) {
  nlohmann::json sampling = o.sampling;
  for (const char* key : {"threads", "queue_batches"}) sampling.erase(key);
  nlohmann::json optim = o.optim;
  optim.erase("epochs");
  // A checkpoint from before the objective options reads them as their defaults.
  ObjectiveOptions objective = o.objective;
  if (objective.similarity.empty()) objective.similarity = defaultSimilarity(objective.loss);
  return {{"model", o.model}, {"sampling", sampling}, {"optim", optim}, {"objective", objective}};
}

}  // namespace kgrec
