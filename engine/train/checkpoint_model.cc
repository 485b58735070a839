#include "engine/train/checkpoint_model.h"

#include <torch/serialize.h>

#include "engine/common/error.h"
#include "engine/train/block_gnn_options.h"
#include "engine/train/distributed_evaluator.h"
#include "models/graph_tensors.h"

namespace kgrec {

namespace {

// A graph filter keeps no model or node vectors: it is rebuilt from its own state
// (engine/train/graph_filter_trainer.h: loadGraphFilter).
CheckpointManifest readVectorModelManifest(const std::string& dir) {
  CheckpointManifest m = readCheckpointManifest(dir);
  KGREC_CHECK(m.options.model.name != "graph-filter",
              "{}: a graph-filter checkpoint has no model to propagate (loadGraphFilter)", dir);
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
  return metricsWithBaseline(evaluator, evaluator.rankModel(model_, h0_), exposure_out);
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
