// partitionDataset end to end: the properties every partition must have (ownership, edges,
// halo, id maps, interactions), on several seeds, part counts and both methods; METIS
// against random; features; and the errors that must leave nothing behind.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

#include "engine/common/error.h"
#include "engine/graph/synthetic.h"
#include "engine/store/dataset_io.h"
#include "engine/store/hdf5_file.h"
#include "partition/partition_book.h"
#include "partition/partitioner.h"
#include "partition/shard.h"
#include "tests/store/temp_dir.h"

namespace kgrec {
namespace {

Dataset smallSynthetic(std::uint64_t seed) {
  SyntheticOptions o;
  o.users = 240;
  o.items = 160;
  o.entities = 60;
  o.communities = 4;
  o.seed = seed;
  return generateSynthetic(o);
}

struct Partition {
  nlohmann::json manifest;
  PartitionBook book;
  std::vector<Shard> shards;
};

using EdgeKey = std::tuple<std::int32_t, std::int32_t, std::int32_t>;  // (dst, src, relation)

class PartitionTest : public TempDirTest {
 protected:
  std::string writeData(const Dataset& d, const std::string& name = "data.h5") {
    writeDataset(d, path(name), true);
    return path(name);
  }

  Partition run(const std::string& data, const std::string& out, std::int64_t parts,
                PartitionMethod method, std::uint64_t seed) {
    PartitionOptions o;
    o.parts = parts;
    o.method = method;
    o.seed = seed;
    Partition p;
    p.manifest = partitionDataset(data, path(out), o);
    p.book = PartitionBook::load(path(out));
    for (std::int32_t k = 0; k < parts; ++k) {
      p.shards.push_back(readShard(path(out) + "/" + shardFileName(k)));
    }
    return p;
  }

  static void expectProperties(const Dataset& d, const Partition& p, std::int64_t parts) {
    const std::int64_t n = d.nodes.numNodes();
    const PartitionBook& book = p.book;
    ASSERT_EQ(book.numNodes(), n);
    ASSERT_EQ(book.numParts(), parts);

    // The id maps are bijective: global -> (part, local) -> global and back.
    std::int64_t owned_total = 0;
    for (std::int64_t g = 0; g < n; ++g) {
      const NodeLocation at = book.locate(g);
      ASSERT_TRUE(at.part >= 0 && at.part < parts && at.local >= 0 && at.local < book.numOwned(at.part));
      EXPECT_EQ(book.globalId(at.part, at.local), g);
    }
    for (std::int32_t q = 0; q < parts; ++q) {
      owned_total += book.numOwned(q);
      for (std::int64_t l = 0; l < book.numOwned(q); ++l) {
        const std::int32_t g = book.globalId(q, l);
        EXPECT_EQ(book.locate(g), (NodeLocation{q, static_cast<std::int32_t>(l)}));
      }
    }
    EXPECT_EQ(owned_total, n);  // with the maps above: every node owned exactly once

    std::vector<EdgeKey> edges, expected_edges;
    std::vector<Interaction> train;
    for (std::int32_t q = 0; q < parts; ++q) {
      const Shard& s = p.shards[q];
      EXPECT_EQ(s.part, q);
      EXPECT_EQ(s.num_parts, parts);
      ASSERT_EQ(s.num_owned, book.numOwned(q));
      EXPECT_EQ(std::vector<std::int32_t>(s.global_ids.begin(), s.global_ids.begin() + s.num_owned),
                book.ownedNodes(q));
      // Halo: exactly the remote sources of the owned nodes' in-edges, with their owners.
      std::set<std::int32_t> remote;
      for (std::int64_t a = 0; a < s.num_owned; ++a) {
        const std::int32_t v = s.global_ids[a];
        for (std::int64_t k = d.graph.indptr[v]; k < d.graph.indptr[v + 1]; ++k) {
          if (book.partOf(d.graph.indices[k]) != q) remote.insert(d.graph.indices[k]);
        }
      }
      ASSERT_EQ(s.numHalo(), static_cast<std::int64_t>(remote.size()));
      EXPECT_TRUE(std::equal(remote.begin(), remote.end(), s.global_ids.begin() + s.num_owned));
      for (std::int64_t h = 0; h < s.numHalo(); ++h) {
        const std::int32_t g = s.global_ids[s.num_owned + h];
        EXPECT_EQ(s.halo_owner[h], book.partOf(g));
        EXPECT_EQ(s.halo_owner_local[h], book.localId(g));
      }
      EXPECT_EQ(p.manifest["halo_nodes"][static_cast<std::size_t>(q)].get<std::int64_t>(), s.numHalo());
      // Edges, translated back to global ids.
      for (std::int64_t a = 0; a < s.num_owned; ++a) {
        for (std::int64_t k = s.graph.indptr[a]; k < s.graph.indptr[a + 1]; ++k) {
          edges.emplace_back(s.global_ids[a], s.global_ids[s.graph.indices[k]], s.graph.relations[k]);
        }
      }
      for (const Interaction& x : s.train) {
        EXPECT_EQ(book.partOf(d.nodes.globalId(NodeType::kUser, x.user)), q);
        train.push_back(x);
      }
      for (const Interaction& x : s.test) EXPECT_EQ(book.partOf(d.nodes.globalId(NodeType::kUser, x.user)), q);
    }
    for (std::int64_t v = 0; v < n; ++v) {
      for (std::int64_t k = d.graph.indptr[v]; k < d.graph.indptr[v + 1]; ++k) {
        expected_edges.emplace_back(v, d.graph.indices[k], d.graph.relations[k]);
      }
    }
    // Every edge exactly once, at its destination's owner (rows are owned nodes).
    std::sort(edges.begin(), edges.end());
    EXPECT_EQ(edges, expected_edges);
    std::sort(train.begin(), train.end());
    EXPECT_EQ(train, d.train);

    for (const char* field : {"parts", "method", "seed", "edge_cut", "edge_cut_fraction",
                              "node_balance", "train_edge_balance", "halo_nodes",
                              "partition_seconds", "metis_seconds"}) {
      EXPECT_TRUE(p.manifest.contains(field)) << field;
    }
    EXPECT_EQ(p.manifest["parts"].get<std::int64_t>(), parts);
  }

  std::vector<std::string> siblingsOf(const std::string& name) const {
    std::vector<std::string> found;
    for (const std::string& f : files()) {
      if (f.rfind(name, 0) == 0) found.push_back(f);
    }
    return found;
  }
};

TEST_F(PartitionTest, PropertiesHoldOnSeedsPartCountsAndMethods) {
  for (const std::uint64_t seed : {1u, 7u}) {
    const Dataset d = smallSynthetic(seed);
    const std::string data = writeData(d);
    for (const std::int64_t parts : {1, 2, 3, 5}) {
      for (const PartitionMethod method : {PartitionMethod::kMetis, PartitionMethod::kRandom}) {
        SCOPED_TRACE(fmt::format("seed {} parts {} {}", seed, parts, partitionMethodName(method)));
        const std::string out = fmt::format("parts-{}-{}-{}", seed, parts, partitionMethodName(method));
        expectProperties(d, run(data, out, parts, method, seed), parts);
        EXPECT_EQ(siblingsOf(out), std::vector<std::string>{out});  // no temporary left
      }
    }
  }
}

TEST_F(PartitionTest, SameSeedSamePartition) {
  const std::string data = writeData(smallSynthetic(3));
  for (const PartitionMethod method : {PartitionMethod::kMetis, PartitionMethod::kRandom}) {
    const Partition a = run(data, "a", 4, method, 11);
    const Partition b = run(data, "b", 4, method, 11);
    for (std::int64_t g = 0; g < a.book.numNodes(); ++g) ASSERT_EQ(a.book.locate(g), b.book.locate(g));
    EXPECT_EQ(a.manifest["edge_cut"], b.manifest["edge_cut"]);
    std::filesystem::remove_all(path("a"));
    std::filesystem::remove_all(path("b"));
  }
  const Partition r1 = run(data, "r1", 4, PartitionMethod::kRandom, 1);
  const Partition r2 = run(data, "r2", 4, PartitionMethod::kRandom, 2);
  EXPECT_NE(r1.book.partOfAll(), r2.book.partOfAll());
}

TEST_F(PartitionTest, MetisCutsFarFewerEdgesThanRandomOnCommunities) {
  SyntheticOptions o;  // 2000 users, 1000 items, 400 entities, 8 communities
  const std::string data = writeData(generateSynthetic(o));
  for (const std::int64_t parts : {2, 4, 8}) {
    SCOPED_TRACE(parts);
    const Partition metis = run(data, fmt::format("m{}", parts), parts, PartitionMethod::kMetis, 1);
    const Partition random = run(data, fmt::format("r{}", parts), parts, PartitionMethod::kRandom, 1);
    const double m = metis.manifest["edge_cut_fraction"].get<double>();
    const double r = random.manifest["edge_cut_fraction"].get<double>();
    EXPECT_LT(m, 0.6 * r) << "metis " << m << " random " << r;
    EXPECT_EQ(metis.manifest["metis"]["objective"], metis.manifest["edge_cut"]);
    EXPECT_LT(metis.manifest["node_balance"].get<double>(), 1.1);
    EXPECT_LT(metis.manifest["train_edge_balance"].get<double>(), 1.15);
    EXPECT_LE(random.manifest["node_balance"].get<double>(), 1.0 + 1e-9 + parts / 3400.0);
  }
}

TEST_F(PartitionTest, CopiesLmFeatureRowsOfOwnedAndHaloNodes) {
  const Dataset d = smallSynthetic(2);
  for (const bool all_nodes : {true, false}) {
    SCOPED_TRACE(all_nodes);
    const std::string data = writeData(d, "lm.h5");
    const std::int64_t first = all_nodes ? 0 : d.nodes.num_users;
    const std::int64_t rows = d.nodes.numNodes() - first;
    constexpr std::int64_t kDim = 3;
    std::vector<float> lm(rows * kDim);
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t c = 0; c < kDim; ++c) lm[r * kDim + c] = static_cast<float>((first + r) * 10 + c);
    }
    {
      Hdf5File f = Hdf5File::openWrite(data);
      f.writeMatrix("/features/lm", lm.data(), rows, kDim);
      f.close();
    }
    const Partition p = run(data, all_nodes ? "all" : "items", 3, PartitionMethod::kMetis, 1);
    EXPECT_EQ(p.manifest["features"]["dim"].get<std::int64_t>(), kDim);
    for (const Shard& s : p.shards) {
      ASSERT_EQ(s.lm.rows, s.numLocal());
      ASSERT_EQ(s.lm.cols, kDim);
      for (std::int64_t a = 0; a < s.numLocal(); ++a) {
        const std::int64_t g = s.global_ids[a];
        const float want = g < first ? 0.0f : static_cast<float>(g * 10 + 2);
        ASSERT_EQ(s.lm.data[a * kDim + 2], want) << g;
      }
    }
  }
}

TEST_F(PartitionTest, ShardsKeepTextsAndOriginalIds) {
  const Dataset d = smallSynthetic(4);
  const Partition p = run(writeData(d), "t", 2, PartitionMethod::kRandom, 1);
  for (const Shard& s : p.shards) {
    for (std::int64_t a = 0; a < s.num_owned; ++a) {
      const std::int64_t g = s.global_ids[a];
      const std::int64_t local = d.nodes.localIndex(g);
      switch (d.nodes.typeOf(g)) {
        case NodeType::kUser:
          EXPECT_EQ(s.original_ids[a], d.user_ids[local]);
          EXPECT_EQ(s.texts[a], "");
          break;
        case NodeType::kItem:
          EXPECT_EQ(s.original_ids[a], d.item_ids[local]);
          EXPECT_EQ(s.texts[a], d.item_texts[local]);
          break;
        case NodeType::kEntity:
          EXPECT_EQ(s.original_ids[a], d.entity_ids[local]);
          EXPECT_EQ(s.texts[a], d.entity_texts[local]);
          break;
      }
    }
  }
}

template <class E, class F>
void expectError(F&& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << fragment << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST_F(PartitionTest, BadOptionsAndInputsFailCleanly) {
  const Dataset d = smallSynthetic(1);
  const std::string data = writeData(d);
  PartitionOptions o;
  o.parts = 0;
  expectError<ConfigError>([&] { partitionDataset(data, path("out"), o); }, "--parts");
  o.parts = -3;
  expectError<ConfigError>([&] { partitionDataset(data, path("out"), o); }, "--parts");
  o.parts = d.nodes.numNodes() + 1;
  expectError<ConfigError>([&] { partitionDataset(data, path("out"), o); }, "nodes");
  o.parts = 2;
  expectError<FormatError>([&] { partitionDataset(path("missing.h5"), path("out"), o); }, "missing.h5");
  {
    const std::string other = writeData(d, "v2.h5");
    Hdf5File f = Hdf5File::openWrite(other);
    f.setAttribute("/", "format_version", std::int64_t{2});
    f.close();
    expectError<FormatError>([&] { partitionDataset(other, path("out"), o); }, "version 2");
  }
  expectError<ConfigError>([] { parsePartitionMethod("kmeans"); }, "kmeans");
  EXPECT_EQ(files(), (std::vector<std::string>{"data.h5", "v2.h5"}));  // nothing half-written
}

TEST_F(PartitionTest, ExistingOutputNeedsForceAndIsReplacedWhole) {
  const std::string data = writeData(smallSynthetic(1));
  PartitionOptions o;
  o.parts = 2;
  std::filesystem::create_directory(path("out"));
  std::ofstream(path("out/keep.txt")) << "mine";
  expectError<ConfigError>([&] { partitionDataset(data, path("out"), o); }, "--force");
  o.force = true;  // a folder that is not a partition is never replaced
  expectError<ConfigError>([&] { partitionDataset(data, path("out"), o); }, "not a kgrec partition");
  EXPECT_TRUE(std::filesystem::exists(path("out/keep.txt")));

  o.force = false;
  partitionDataset(data, path("parts/"), o);  // a trailing slash names the folder itself
  o.parts = 3;
  expectError<ConfigError>([&] { partitionDataset(data, path("parts"), o); }, "already exists");
  EXPECT_EQ(PartitionBook::load(path("parts")).numParts(), 2);
  o.force = true;
  partitionDataset(data, path("parts"), o);
  EXPECT_EQ(PartitionBook::load(path("parts")).numParts(), 3);
  EXPECT_TRUE(std::filesystem::exists(path("parts/part-2.h5")));
  EXPECT_EQ(files(), (std::vector<std::string>{"data.h5", "out", "parts"}));
}

TEST_F(PartitionTest, ReadShardRejectsOtherFiles) {
  const std::string data = writeData(smallSynthetic(1));
  expectError<FormatError>([&] { readShard(data); }, "not a kgrec shard");
  expectError<FormatError>([&] { PartitionBook::load(path("nowhere")); }, "book.h5");
}

}  // namespace
}  // namespace kgrec
