// partitionDataset: read, assign, order, measure, write shards + book + manifest atomically.

#include <algorithm>
#include <chrono>
#include <optional>

#include <spdlog/spdlog.h>

#include "engine/common/atomic_folder.h"
#include "engine/common/atomic_output.h"
#include "engine/common/error.h"
#include "engine/common/progress.h"
#include "engine/store/dataset_io.h"
#include "engine/store/hdf5_file.h"
#include "partition/node_order.h"
#include "partition/partition_book.h"
#include "partition/partition_stats.h"
#include "partition/partitioner.h"
#include "partition/shard.h"

namespace kgrec {
namespace {

constexpr const char* kManifestFile = "manifest.json";
constexpr int kManifestFormatVersion = 1;

class Stopwatch {
 public:
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace

nlohmann::json partitionDataset(const std::string& dataset_path, const std::string& out_dir,
                                const PartitionOptions& o) {
  Stopwatch total, lap;
  if (o.parts < 1) throw ConfigError(fmt::format("--parts must be >= 1, got {}", o.parts));
  AtomicFolder out(out_dir, o.force, kManifestFile, "kgrec partition folder");
  // The summary is cheap and refuses a missing or other-version file before the big read.
  const DatasetSummary summary = readDatasetSummary(dataset_path);
  const std::int64_t num_nodes = summary.num_users + summary.num_items + summary.num_entities;
  if (o.parts > num_nodes) {
    throw ConfigError(fmt::format("--parts {} is more than the {} nodes of {}", o.parts,
                                  num_nodes, dataset_path));
  }
  const Dataset d = readDataset(dataset_path);
  const std::optional<NodeFeatures> features = readNodeFeatures(dataset_path, d.nodes);
  const double read_seconds = lap.lap();

  const PartAssignment assignment = assignParts(d, o.parts, o.method, o.seed);
  const double assign_seconds = lap.lap();
  std::vector<std::int64_t> part_components;
  const std::vector<std::vector<std::int32_t>> owned =
      orderOwnedNodes(d.graph, assignment.part_of, o.parts, &part_components);
  const PartitionBook book = PartitionBook::fromOwnedNodes(num_nodes, owned);
  const double order_seconds = lap.lap();

  const PartitionStats stats = computePartitionStats(d, assignment.part_of, o.parts);
  const ComponentStats components = graphComponents(d.graph);
  SamplingPlan plan;
  plan.seed = o.seed;
  std::vector<std::int64_t> fetch_nodes, fetch_bytes, sampled_nodes;
  std::vector<double> distance_global, distance_rcm;
  std::vector<std::int32_t> scratch;
  for (std::int32_t p = 0; p < o.parts; ++p) {
    const FetchEstimate e = estimateEpochFetch(d, assignment.part_of, p, plan);
    sampled_nodes.push_back(e.sampled_nodes);
    fetch_nodes.push_back(e.remote_nodes);
    fetch_bytes.push_back(e.bytes);
    std::vector<std::int32_t> ascending = owned[p];
    std::sort(ascending.begin(), ascending.end());
    distance_global.push_back(meanNeighbourDistance(d.graph, ascending, &scratch));
    distance_rcm.push_back(meanNeighbourDistance(d.graph, owned[p], &scratch));
  }
  const double stats_seconds = lap.lap();

  Progress progress("partition: writing shards", static_cast<std::uint64_t>(o.parts));
  nlohmann::json shard_files = nlohmann::json::array();
  for (std::int32_t p = 0; p < o.parts; ++p) {
    const Shard shard = buildShard(d, book, p, features ? &*features : nullptr);
    AtomicOutput file(out.file(shardFileName(p)));
    writeShard(shard, file.tempPath());
    file.commit();
    shard_files.push_back(shardFileName(p));
    progress.update(static_cast<std::uint64_t>(p + 1));
  }
  {
    AtomicOutput file(out.file(kPartitionBookFile));
    book.save(file.tempPath());
    file.commit();
  }
  progress.finish();
  const double write_seconds = lap.lap();

  nlohmann::json m;
  m["format"] = "kgrec-partition";
  m["format_version"] = kManifestFormatVersion;
  m["dataset"] = dataset_path;
  m["dataset_name"] = d.name;
  m["parts"] = o.parts;
  m["method"] = partitionMethodName(o.method);
  m["seed"] = o.seed;
  m["num_nodes"] = num_nodes;
  m["num_edges"] = stats.num_edges;
  m["num_train"] = d.train.size();
  m["edge_cut"] = stats.edge_cut;
  m["edge_cut_fraction"] = stats.edge_cut_fraction;
  m["node_balance"] = stats.node_balance;
  m["train_edge_balance"] = stats.train_edge_balance;
  m["nodes"] = stats.nodes;
  m["edges"] = stats.edges;
  m["train_edges"] = stats.train_edges;
  m["halo_nodes"] = stats.halo_nodes;
  m["fetch_per_epoch"] = {{"fanouts", plan.fanouts},
                          {"batch_size", plan.batch_size},
                          {"negatives", plan.negatives},
                          {"max_batches", plan.max_batches},
                          {"feature_bytes", plan.feature_bytes},
                          {"sampled_nodes", sampled_nodes},
                          {"remote_nodes", fetch_nodes},
                          {"bytes", fetch_bytes}};
  m["components"] = {{"count", components.count},
                     {"largest", components.largest},
                     {"isolated", components.isolated},
                     {"per_part", part_components}};
  m["locality"] = {{"order", "reverse_cuthill_mckee"},
                   {"mean_neighbour_distance", distance_rcm},
                   {"mean_neighbour_distance_by_global_id", distance_global}};
  if (o.method == PartitionMethod::kMetis && o.parts > 1) {
    m["metis"] = {{"function", "METIS_PartGraphKway"},
                  {"constraints", d.train.empty() ? 1 : 2},
                  {"edge_weights", "relations per node pair"},
                  {"objective", assignment.metis_objective}};
  }
  m["features"] = {{"lm", features.has_value()},
                   {"dim", features ? features->matrix.cols : 0}};
  m["files"] = {{"book", kPartitionBookFile}, {"shards", shard_files}};
  m["metis_seconds"] = assignment.metis_seconds;
  m["seconds"] = {{"read", read_seconds},     {"assign", assign_seconds},
                  {"order", order_seconds},   {"stats", stats_seconds},
                  {"write", write_seconds},   {"total", total.lap()}};
  m["partition_seconds"] = m["seconds"]["total"];
  writeFileAtomically(out.file(kManifestFile), m.dump(2) + "\n");
  out.commit();
  spdlog::info("partitioned {} into {} parts ({}): edge cut {:.4f}, node balance {:.3f}, "
               "train balance {:.3f}, {:.2f}s",
               dataset_path, o.parts, partitionMethodName(o.method), stats.edge_cut_fraction,
               stats.node_balance, stats.train_edge_balance, m["partition_seconds"].get<double>());
  return m;
}

}  // namespace kgrec
