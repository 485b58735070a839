// METIS against the random baseline: one JSON line per (dataset, method, parts) with edge cut,
// balance, halo, estimated feature bytes per epoch, time, METIS's share and peak memory.
//
//   partition_bench            synthetic (community graph), gowalla, lastfm-kg at P = 2, 4, 8
//   partition_bench --large    one ~10M-edge synthetic graph at P = 8 (time and peak memory)
//
// Each configuration runs in a forked child, so that its peak RSS (getrusage) is its own and
// not that of dataset import or of an earlier configuration. Real datasets come from
// ../shared/datasets and are skipped when absent.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "engine/graph/synthetic.h"
#include "engine/prepare/importers.h"
#include "engine/store/dataset_io.h"
#include "partition/partitioner.h"

namespace kgrec {
namespace {

namespace fs = std::filesystem;

// Runs `work` in a child process; false when it failed.
bool inChild(const std::function<void()>& work) {
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    return false;
  }
  if (pid == 0) {
    int code = 0;
    try {
      work();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "partition_bench: %s\n", e.what());
      code = 1;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

double peakRssMiB() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

template <class T>
T sum(const nlohmann::json& values) {
  T total = 0;
  for (const auto& v : values) total += v.get<T>();
  return total;
}

double mean(const nlohmann::json& values) {
  return values.empty() ? 0.0 : sum<double>(values) / static_cast<double>(values.size());
}

bool runConfig(const std::string& name, const std::string& data, const fs::path& work,
               PartitionMethod method, std::int64_t parts) {
  return inChild([&] {
    PartitionOptions o;
    o.parts = parts;
    o.method = method;
    o.seed = 1;
    o.force = true;
    const fs::path out = work / fmt::format("{}-{}-{}", name, partitionMethodName(method), parts);
    const nlohmann::json m = partitionDataset(data, out.string(), o);
    const nlohmann::json& bytes = m["fetch_per_epoch"]["bytes"];
    std::int64_t max_bytes = 0;
    for (const auto& b : bytes) max_bytes = std::max(max_bytes, b.get<std::int64_t>());
    const double seconds = m["partition_seconds"].get<double>();
    const double metis = m["metis_seconds"].get<double>();
    nlohmann::json line = {
        {"dataset", name},
        {"method", m["method"]},
        {"parts", parts},
        {"nodes", m["num_nodes"]},
        {"edges", m["num_edges"]},
        {"edge_cut_fraction", m["edge_cut_fraction"]},
        {"node_balance", m["node_balance"]},
        {"train_edge_balance", m["train_edge_balance"]},
        {"halo_nodes", m["halo_nodes"]},
        {"halo_nodes_total", sum<std::int64_t>(m["halo_nodes"])},
        {"fetch_bytes_per_epoch_total", sum<std::int64_t>(bytes)},
        {"fetch_bytes_per_epoch_max_rank", max_bytes},
        {"mean_neighbour_distance_rcm", mean(m["locality"]["mean_neighbour_distance"])},
        {"mean_neighbour_distance_by_id", mean(m["locality"]["mean_neighbour_distance_by_global_id"])},
        {"seconds", seconds},
        {"metis_seconds", metis},
        {"metis_share", seconds > 0.0 ? metis / seconds : 0.0},
        {"seconds_breakdown", m["seconds"]},
        {"peak_rss_mib", peakRssMiB()},
    };
    std::cout << line.dump() << std::endl;
    fs::remove_all(out);
  });
}

struct BenchDataset {
  std::string name;
  std::function<Dataset()> load;  // runs in a child; null result = skipped
};

// Writes the dataset file in a child process, so its memory never counts for a configuration.
bool prepare(const BenchDataset& b, const std::string& file) {
  return inChild([&] { writeDataset(b.load(), file, true); });
}

std::vector<BenchDataset> standardDatasets() {
  const std::string shared = std::string(KGREC_SHARED_DIR) + "/datasets";
  std::vector<BenchDataset> out;
  out.push_back({"synthetic", [] {
                   SyntheticOptions o;
                   o.users = 50000;
                   o.items = 20000;
                   o.entities = 5000;
                   o.communities = 16;
                   return generateSynthetic(o);
                 }});
  if (fs::exists(shared + "/gowalla/train.txt")) {
    out.push_back({"gowalla", [shared] {
                     ImportOptions o;
                     o.train = shared + "/gowalla/train.txt";
                     o.test = shared + "/gowalla/test.txt";
                     return importDataset(o);
                   }});
  } else {
    std::cerr << "partition_bench: " << shared << "/gowalla not found, skipped\n";
  }
  if (fs::exists(shared + "/lastfm-kg/train_pos.txt")) {
    out.push_back({"lastfm-kg", [shared] {
                     ImportOptions o;
                     o.format = InputFormat::kPairs;
                     o.train = shared + "/lastfm-kg/train_pos.txt";
                     o.test = shared + "/lastfm-kg/test.txt";
                     o.kg = shared + "/lastfm-kg/kg_final.txt";
                     return importDataset(o);
                   }});
  } else {
    std::cerr << "partition_bench: " << shared << "/lastfm-kg not found, skipped\n";
  }
  return out;
}

// About 10 million graph edges (CSR entries, reverses included): ~4.6M interactions and
// ~0.4M KG triples over 660k nodes.
BenchDataset largeDataset() {
  return {"synthetic-10M", [] {
            SyntheticOptions o;
            o.users = 400000;
            o.items = 200000;
            o.entities = 60000;
            o.communities = 64;
            o.interactions_per_user = 16.0;
            o.triples_per_item = 1.5;
            return generateSynthetic(o);
          }};
}

}  // namespace
}  // namespace kgrec

int main(int argc, char** argv) {
  using namespace kgrec;
  bool large = false;
  for (int a = 1; a < argc; ++a) {
    if (std::strcmp(argv[a], "--large") == 0) {
      large = true;
    } else {
      std::cerr << "usage: partition_bench [--large]\n";
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  const fs::path work = fs::temp_directory_path() / fmt::format("kgrec_partition_bench_{}", ::getpid());
  fs::create_directories(work);
  const std::vector<BenchDataset> datasets =
      large ? std::vector<BenchDataset>{largeDataset()} : standardDatasets();
  const std::vector<std::int64_t> part_counts =
      large ? std::vector<std::int64_t>{8} : std::vector<std::int64_t>{2, 4, 8};
  int failures = 0;
  for (const BenchDataset& b : datasets) {
    const std::string file = (work / (b.name + ".h5")).string();
    if (!prepare(b, file)) {
      ++failures;
      continue;
    }
    for (const std::int64_t parts : part_counts) {
      for (const PartitionMethod method : {PartitionMethod::kMetis, PartitionMethod::kRandom}) {
        if (!runConfig(b.name, file, work, method, parts)) ++failures;
      }
    }
    fs::remove(file);
  }
  fs::remove_all(work);
  return failures == 0 ? 0 : 1;
}
