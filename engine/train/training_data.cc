#include "engine/train/training_data.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "engine/common/error.h"
#include "engine/store/dataset_io.h"
#include "partition/node_order.h"
#include "sampler/dist/dist_sampling.h"

namespace kgrec {
namespace {

// Drops the edges of relations other than the interactions (and their reverses).
void keepInteractionEdges(Csr& graph) {
  Csr kept;
  kept.indptr.reserve(graph.indptr.size());
  kept.indptr.push_back(0);
  for (std::int64_t v = 0; v < graph.numRows(); ++v) {
    for (std::int64_t e = graph.indptr[v]; e < graph.indptr[v + 1]; ++e) {
      const std::int32_t r = graph.relations[e];
      if (r == kRelInteract || r == kRelInteractReverse) {
        kept.indices.push_back(graph.indices[e]);
        kept.relations.push_back(r);
      }
    }
    kept.indptr.push_back(static_cast<std::int64_t>(kept.indices.size()));
  }
  graph = std::move(kept);
}

// Collective: filters the graph, then gathers the statistics of what is left.
void finish(TrainingData& data, ProcessGroup& group, const std::string& relations) {
  if (relations == "interactions") {
    keepInteractionEdges(data.shard.graph);
  } else {
    KGREC_CHECK(relations == "all", "unknown relation set {}", relations);
  }
  data.stats = gatherGraphStats(group, data.shard, data.book);
}

}  // namespace

TrainingData wholeDatasetAsOnePart(const std::string& dataset_path, ProcessGroup& group,
                                   const std::string& relations) {
  KGREC_CHECK(group.size() == 1, "a whole dataset is one part, for a group of one, not {}",
              group.size());
  TrainingData data;
  data.dataset_path = dataset_path;
  const Dataset d = readDataset(dataset_path);
  const std::optional<NodeFeatures> features = readNodeFeatures(dataset_path, d.nodes);
  data.book = PartitionBook::fromOwnedNodes(
      d.nodes.numNodes(),
      orderOwnedNodes(d.graph, std::vector<std::int32_t>(d.nodes.numNodes(), 0), 1));
  data.shard = buildShard(d, data.book, 0, features ? &*features : nullptr);
  finish(data, group, relations);
  return data;
}

TrainingData loadTrainingData(const std::string& input, ProcessGroup& group,
                              const std::string& relations) {
  if (!std::filesystem::is_directory(input)) {
    if (group.size() != 1) {
      throw ConfigError(fmt::format(
          "{} is a dataset file, which trains in one process; for {} ranks cut it into parts "
          "first: kgrec partition {} --parts {} -o PARTS/, then train PARTS/",
          input, group.size(), input, group.size()));
    }
    return wholeDatasetAsOnePart(input, group, relations);
  }
  const std::string manifest_path = input + "/manifest.json";
  std::ifstream in(manifest_path);
  if (!in) {
    throw FormatError(fmt::format("{}: no manifest.json; is this a folder written by kgrec "
                                  "partition?", input));
  }
  nlohmann::json manifest;
  try {
    in >> manifest;
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(fmt::format("{}: malformed partition manifest: {}", manifest_path, e.what()));
  }
  const std::int64_t parts = manifest.value("parts", std::int64_t{0});
  const int world = group.size();
  if (parts != world) {
    throw ConfigError(fmt::format(
        "{} holds {} parts but the job has {} ranks: run one rank per part (mpirun -np {} or "
        "srun -n {}), or partition again with --parts {}",
        input, parts, world, parts, parts, world));
  }
  TrainingData data;
  data.dataset_path = manifest.value("dataset", std::string());
  data.shard = readShard(input + "/" + shardFileName(group.rank()));
  data.book = PartitionBook::load(input);
  KGREC_CHECK(data.shard.part == group.rank() && data.book.numParts() == world,
              "{}: part {} of {} is not rank {}'s", input, data.shard.part, data.book.numParts(),
              group.rank());
  spdlog::info("rank {}: part {} of {}: {} owned nodes, {} halo nodes, {} training interactions",
               group.rank(), data.shard.part, world, data.shard.num_owned, data.shard.numHalo(),
               data.shard.train.size());
  finish(data, group, relations);
  return data;
}

torch::Tensor ownedFeatures(const Shard& shard) {
  if (shard.lm.cols == 0) return torch::zeros({shard.num_owned, 0});
  return torch::from_blob(const_cast<float*>(shard.lm.data.data()),
                          {shard.num_owned, shard.lm.cols}, torch::kFloat32)
      .clone();
}

}  // namespace kgrec
