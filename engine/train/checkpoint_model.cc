#include "engine/train/checkpoint_model.h"

#include <torch/serialize.h>

#include "engine/common/error.h"
#include "engine/eval/exposure_table.h"
#include "engine/train/block_gnn_options.h"
#include "engine/train/distributed_evaluator.h"
#include "models/graph_tensors.h"

namespace kgrec {

namespace {

// A graph filter keeps no node vectors: its scores come from the filter itself
// (engine/train/graph_filter_trainer.h), which only `kgrec eval` reads so far.
CheckpointManifest readVectorModelManifest(const std::string& dir) {
  CheckpointManifest m = readCheckpointManifest(dir);
  if (m.options.model.name == "graph-filter") {
    throw ConfigError(fmt::format("{}: a graph-filter checkpoint has no node vectors; recommend, "
                                  "similar and export do not read it yet (kgrec eval does)",
                                  dir));
  }
  return m;
}

}  // namespace

CheckpointModel::CheckpointModel(const std::string& dir)
    : manifest_(readVectorModelManifest(dir)),
      self_(std::make_shared<LocalProcessGroup>()),
      data_(wholeDatasetAsOnePart(manifest_.dataset, *self_, manifest_.options.model.relations)),
      model_(blockGnnOptions(manifest_.options.model, manifest_.feature_dim,
                             manifest_.num_relations)) {
  torch::load(model_, dir + "/model.pt");
  model_->eval();
  torch::Tensor table;
  torch::load(table, dir + "/id_embedding.pt");
  const Shard& shard = data_.shard;
  KGREC_CHECK(table.size(0) == shard.nodes.numNodes(), "{}: {} embedding rows for {} nodes",
              dir, table.size(0), shard.nodes.numNodes());
  const torch::Tensor owned = table.index_select(
      0, int64Tensor(std::vector<std::int64_t>(shard.global_ids.begin(),
                                               shard.global_ids.begin() + shard.num_owned)));
  propagation_ = std::make_unique<FullGraphPropagation>(self_, shard, data_.book, data_.stats);
  torch::NoGradGuard no_grad;
  h0_ = propagation_->inputs(model_, owned, ownedFeatures(shard));
}

nlohmann::json CheckpointModel::evaluate(std::vector<std::int64_t> ks,
                                         const std::string& exposure_out) const {
  if (ks.empty()) ks = manifest_.options.run.ks;
  const DistributedEvaluator evaluator(self_, data_.shard, data_.stats, *propagation_, ks);
  torch::NoGradGuard no_grad;
  const RankingEvalResult ranked = evaluator.rankModel(model_, h0_);
  const RankingEvalResult popularity = evaluator.rankPopularity();
  if (!exposure_out.empty()) {
    writeExposureTable(exposure_out, evaluator.catalogue(), ranked, popularity);
  }
  nlohmann::json metrics = toJson(ranked);
  metrics["popularity_baseline"] = toJson(popularity);
  return metrics;
}

torch::Tensor CheckpointModel::nodeVectors() const {
  torch::NoGradGuard no_grad;
  const torch::Tensor out = propagation_->forward(model_, h0_);
  // One part owns every node, in its own local order.
  torch::Tensor vectors = torch::empty({data_.shard.nodes.numNodes(), out.size(1)}, out.options());
  vectors.index_copy_(0, int64Tensor(propagation_->ownedNodes()), out);
  return vectors;
}

}  // namespace kgrec
