// The distributed evaluator under mpirun (P = 1, 2, 4): the popularity baseline's metrics on
// P ranks, the beyond-accuracy ones included (per-item exposure added over ranks, tail and
// novelty from the global training counts, diversity from LM features gathered from their
// owners), are those of one process over the dataset file.

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "comm/local_process_group.h"
#include "engine/graph/synthetic.h"
#include "engine/store/dataset_io.h"
#include "engine/store/hdf5_file.h"
#include "engine/train/distributed_evaluator.h"
#include "engine/train/training_data.h"
#include "partition/partitioner.h"
#include "tests/comm/comm_testing.h"

namespace kgrec {
namespace {

namespace fs = std::filesystem;
using testing::worldGroup;

// Rank 0 writes a synthetic dataset with random LM features and its P parts; every rank
// gets the folder.
std::string writeDatasetWithFeatures() {
  const std::string dir = testing::sharedTemporaryFolder("kgrec-eval-ranks");
  if (worldGroup()->rank() == 0) {
    SyntheticOptions s;
    s.users = 200;
    s.items = 120;
    s.entities = 40;
    s.seed = 5;
    const Dataset d = generateSynthetic(s);
    writeDataset(d, dir + "/data.h5", true);
    const std::int64_t rows = d.nodes.num_items + d.nodes.num_entities, cols = 8;
    std::vector<float> features(rows * cols);
    std::mt19937 rng(3);
    std::normal_distribution<float> normal;
    for (float& f : features) f = normal(rng);
    Hdf5File file = Hdf5File::openWrite(dir + "/data.h5");
    file.writeMatrix("/features/lm", features.data(), rows, cols);
    file.close();
    PartitionOptions p;
    p.parts = worldGroup()->size();
    partitionDataset(dir + "/data.h5", dir + "/parts", p);
  }
  worldGroup()->barrier()->wait();
  return dir;
}

RankingEvalResult popularityOf(const std::string& input, std::shared_ptr<ProcessGroup> group,
                               nlohmann::json* json) {
  const TrainingData data = loadTrainingData(input, *group, "all");
  const FullGraphPropagation propagation(group, data.shard, data.book, data.stats);
  const DistributedEvaluator evaluator(group, data.shard, data.stats, propagation, {5, 20});
  RankingEvalResult result = evaluator.rankPopularity();
  *json = toJson(result);
  return result;
}

TEST(DistributedEvaluatorRanks, PopularityMetricsOnRanksAreThoseOfOneProcess) {
  const std::string dir = writeDatasetWithFeatures();
  nlohmann::json ranks_json;
  const RankingEvalResult ranks = popularityOf(dir + "/parts", worldGroup(), &ranks_json);
  if (worldGroup()->rank() == 0) {
    nlohmann::json one_json;
    const RankingEvalResult one =
        popularityOf(dir + "/data.h5", std::make_shared<LocalProcessGroup>(), &one_json);
    ASSERT_TRUE(one_json.contains("diversity@20")) << one_json.dump();
    ASSERT_TRUE(one_json.contains("coverage@5"));
    for (const auto& [key, value] : one_json.items()) {
      if (key == "eval_seconds") continue;
      ASSERT_TRUE(ranks_json.contains(key)) << key;
      EXPECT_NEAR(ranks_json[key].get<double>(), value.get<double>(), 1e-9) << key;
    }
    for (std::size_t j = 0; j < one.lists.size(); ++j) {
      EXPECT_EQ(ranks.lists[j].exposure, one.lists[j].exposure) << "k = " << one.ks[j];
    }
  }
  worldGroup()->barrier()->wait();
  if (worldGroup()->rank() == 0) fs::remove_all(dir);
}

}  // namespace
}  // namespace kgrec
