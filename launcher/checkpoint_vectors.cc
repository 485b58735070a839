#include "launcher/checkpoint_vectors.h"

#include "engine/common/error.h"
#include "engine/store/dataset_io.h"
#include "engine/train/checkpoint_model.h"
#include "engine/train/graph_filter_trainer.h"

namespace kgrec {

CheckpointVectors loadCheckpointVectors(const std::string& checkpoint_dir, ProcessGroup& group) {
  const CheckpointManifest manifest = readCheckpointManifest(checkpoint_dir);
  CheckpointVectors out;
  out.dataset = readDataset(manifest.dataset);
  if (manifest.options.model.name == "graph-filter") {
    const GraphFilter::Factors factors =
        loadGraphFilter(checkpoint_dir, manifest, out.dataset.train, out.dataset.nodes)
            .spectralFactors();
    out.users = factors.users;
    out.items = factors.items;
    out.entities = torch::empty({0, factors.items.size(1)});
    out.kind = fmt::format("spectral factors of rank {}", factors.rank);
    return out;
  }
  out.kind = "final node vectors";
  torch::Tensor vectors;
  torch::Tensor shape = torch::zeros({2}, torch::kInt64);
  if (group.rank() == 0) {
    vectors = CheckpointModel(checkpoint_dir).nodeVectors().contiguous();
    shape[0] = vectors.size(0);
    shape[1] = vectors.size(1);
  }
  if (group.size() > 1) {
    group.broadcast(shape, 0)->wait();
    if (group.rank() != 0) vectors = torch::empty({shape[0].item<std::int64_t>(), shape[1].item<std::int64_t>()});
    group.broadcast(vectors, 0)->wait();
  }
  const NodeSpace& nodes = out.dataset.nodes;
  KGREC_CHECK(vectors.size(0) == nodes.numNodes(), "{}: {} vectors for the {} nodes of {}",
              checkpoint_dir, vectors.size(0), nodes.numNodes(), manifest.dataset);
  auto rowsOf = [&](NodeType type) {
    return vectors.slice(0, nodes.begin(type), nodes.begin(type) + nodes.count(type));
  };
  out.users = rowsOf(NodeType::kUser);
  out.items = rowsOf(NodeType::kItem);
  out.entities = rowsOf(NodeType::kEntity);
  return out;
}

CLI::App* addCheckpointCommand(CLI::App& app, const std::string& name,
                               const std::string& description, std::string& checkpoint_dir) {
  CLI::App* cmd = app.add_subcommand(name, description);
  cmd->add_option("checkpoint", checkpoint_dir, "Checkpoint folder written by `kgrec train --ckpt`")
      ->required()->check(CLI::ExistingDirectory);
  return cmd;
}

}  // namespace kgrec
