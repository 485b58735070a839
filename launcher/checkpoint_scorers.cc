#include "launcher/checkpoint_scorers.h"

#include <memory>

#include "engine/store/dataset_io.h"
#include "engine/train/checkpoint.h"
#include "engine/train/graph_filter_trainer.h"
#include "launcher/checkpoint_vectors.h"

namespace kgrec {

CheckpointScorers loadCheckpointScorers(const std::string& checkpoint_dir, ProcessGroup& group) {
  const CheckpointManifest manifest = readCheckpointManifest(checkpoint_dir);
  CheckpointScorers out;
  if (manifest.options.model.name == "graph-filter") {
    out.dataset = readDataset(manifest.dataset);
    const auto filter = std::make_shared<const GraphFilter>(
        loadGraphFilter(checkpoint_dir, manifest, out.dataset.train, out.dataset.nodes));
    out.users = [filter](const torch::Tensor& users) { return filter->scores(users); };
    out.items = [filter](const torch::Tensor& items) { return filter->itemScores(items); };
    out.item_similarity = "filter_weight";
    return out;
  }
  CheckpointVectors v = loadCheckpointVectors(checkpoint_dir, group);
  out.dataset = std::move(v.dataset);
  out.users = innerProductScorer(v.users, v.items);
  // Unit rows (a zero vector stays zero: cosine 0 with everything).
  const torch::Tensor unit = v.items / v.items.norm(2, 1, true).clamp_min(1e-12);
  out.items = innerProductScorer(unit, unit);
  out.item_similarity = "cosine";
  return out;
}

}  // namespace kgrec
