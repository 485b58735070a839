#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/common/error.h"
#include "engine/graph/synthetic.h"
#include "engine/store/dataset_io.h"
#include "engine/train/trainer.h"
#include "tests/store/temp_dir.h"

namespace kgrec {
namespace {

namespace fs = std::filesystem;

class TrainerTest : public TempDirTest {};

SyntheticOptions smallGraph() {
  SyntheticOptions s;
  s.users = 600;
  s.items = 300;
  s.entities = 100;
  s.seed = 5;
  return s;
}

TrainOptions shortRun() {
  TrainOptions o;
  o.epochs = 12;
  o.batch_size = 512;
  o.dim = 32;
  o.layers = 2;
  o.lr = 0.01;
  o.eval_every = 0;
  o.quiet = true;
  return o;
}

// The model must learn the communities: clearly above the popularity baseline.
TEST_F(TrainerTest, LightGcnBeatsPopularityAndCheckpointReproducesMetrics) {
  Dataset d = generateSynthetic(smallGraph());
  const std::string data = (dir_ / "data.h5").string();
  writeDataset(d, data, true);
  TrainOptions o = shortRun();
  o.dataset_path = data;
  o.metrics_out = (dir_ / "metrics.jsonl").string();
  o.checkpoint_dir = (dir_ / "ckpt").string();
  TrainResult r = train(d, o);
  ASSERT_EQ(r.epochs.size(), 12u);
  EXPECT_LT(r.epochs.back().loss, r.epochs.front().loss);
  const double model_recall = r.final_metrics.at("recall@20").get<double>();
  const double pop_recall = r.popularity_metrics.at("recall@20").get<double>();
  EXPECT_GT(model_recall, 1.5 * pop_recall) << "model " << model_recall << " popularity " << pop_recall;
  EXPECT_GT(r.final_metrics.at("ndcg@20").get<double>(),
            1.5 * r.popularity_metrics.at("ndcg@20").get<double>());

  // One JSON line for the baseline, one per epoch, each with the required fields.
  std::ifstream in(o.metrics_out);
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 13u);
  EXPECT_EQ(lines[0].at("baseline"), "popularity");
  for (std::size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].at("epoch"), static_cast<int>(i));
    EXPECT_TRUE(lines[i].contains("loss"));
    EXPECT_TRUE(lines[i].contains("epoch_seconds"));
  }
  EXPECT_TRUE(lines.back().contains("recall@20"));

  nlohmann::json reloaded = evaluateCheckpoint(o.checkpoint_dir);
  EXPECT_DOUBLE_EQ(reloaded.at("recall@20").get<double>(), model_recall);
  EXPECT_DOUBLE_EQ(reloaded.at("ndcg@20").get<double>(), r.final_metrics.at("ndcg@20").get<double>());
}

TEST_F(TrainerTest, SameSeedSameRun) {
  Dataset d = generateSynthetic(smallGraph());
  TrainOptions o = shortRun();
  o.epochs = 2;
  TrainResult a = train(d, o);
  TrainResult b = train(d, o);
  EXPECT_EQ(a.epochs.back().loss, b.epochs.back().loss);
  EXPECT_EQ(a.final_metrics.at("recall@20"), b.final_metrics.at("recall@20"));
}

TEST_F(TrainerTest, RejectsBadOptions) {
  Dataset d = generateSynthetic(smallGraph());
  TrainOptions o = shortRun();
  o.model = "nonsense";
  EXPECT_THROW(train(d, o), ConfigError);
  o = shortRun();
  o.batch_size = 0;
  EXPECT_THROW(train(d, o), ConfigError);
  o = shortRun();
  o.lr = -1.0;
  EXPECT_THROW(train(d, o), ConfigError);
  o = shortRun();
  o.device = "tpu";
  EXPECT_THROW(train(d, o), ConfigError);
}

TEST_F(TrainerTest, IncompleteCheckpointIsRefused) {
  fs::create_directories(dir_ / "ckpt");
  std::ofstream(dir_ / "ckpt" / "model.pt") << "partial";
  EXPECT_THROW(evaluateCheckpoint((dir_ / "ckpt").string()), FormatError);
  std::ofstream(dir_ / "ckpt" / "checkpoint.json") << "{\"kind\": \"kgrec-checkpoint\"";
  EXPECT_THROW(evaluateCheckpoint((dir_ / "ckpt").string()), FormatError);
}

}  // namespace
}  // namespace kgrec
