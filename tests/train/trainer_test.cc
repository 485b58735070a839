#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/common/error.h"
#include "engine/graph/synthetic.h"
#include "engine/store/dataset_io.h"
#include "comm/local_process_group.h"
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

TrainOptions shortRun(const std::string& data) {
  TrainOptions o;
  o.run.input = data;
  o.optim.epochs = 12;
  o.optim.batch_size = 512;
  o.model.dim = 32;
  o.model.layers = 2;
  o.optim.lr = 0.01;
  o.run.eval_every = 0;
  o.run.quiet = true;
  return o;
}

TrainResult train(const TrainOptions& o) {
  return Trainer(o, std::make_shared<LocalProcessGroup>()).run();
}

// The synthetic graph written to DIR/data.h5.
std::string writeSmallGraph(const fs::path& dir) {
  const std::string data = (dir / "data.h5").string();
  writeDataset(generateSynthetic(smallGraph()), data, true);
  return data;
}

// The model must learn the communities: clearly above the popularity baseline.
TEST_F(TrainerTest, LightGcnBeatsPopularityAndCheckpointReproducesMetrics) {
  TrainOptions o = shortRun(writeSmallGraph(dir_));
  o.run.metrics_out = (dir_ / "metrics.jsonl").string();
  o.run.checkpoint_dir = (dir_ / "ckpt").string();
  TrainResult r = train(o);
  ASSERT_EQ(r.epochs.size(), 12u);
  EXPECT_LT(r.epochs.back().at("loss").get<double>(), r.epochs.front().at("loss").get<double>());
  const double model_recall = r.final_metrics.at("recall@20").get<double>();
  const double pop_recall = r.popularity_metrics.at("recall@20").get<double>();
  EXPECT_GT(model_recall, 1.5 * pop_recall) << "model " << model_recall << " popularity " << pop_recall;
  EXPECT_GT(r.final_metrics.at("ndcg@20").get<double>(),
            1.5 * r.popularity_metrics.at("ndcg@20").get<double>());

  // One JSON line for the baseline, one per epoch, each with the required fields.
  std::ifstream in(o.run.metrics_out);
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

  nlohmann::json reloaded = evaluateCheckpoint(o.run.checkpoint_dir);
  EXPECT_DOUBLE_EQ(reloaded.at("recall@20").get<double>(), model_recall);
  EXPECT_DOUBLE_EQ(reloaded.at("ndcg@20").get<double>(), r.final_metrics.at("ndcg@20").get<double>());
}

TEST_F(TrainerTest, SameSeedSameRunInBothModes) {
  for (const char* propagation : {"full", "sampled"}) {
    TrainOptions o = shortRun(writeSmallGraph(dir_));
    o.optim.epochs = 2;
    o.sampling.propagation = propagation;
    TrainResult a = train(o);
    TrainResult b = train(o);
    EXPECT_EQ(a.epochs.back().at("loss"), b.epochs.back().at("loss")) << propagation;
    EXPECT_EQ(a.final_metrics.at("recall@20"), b.final_metrics.at("recall@20")) << propagation;
  }
}

TEST_F(TrainerTest, RejectsBadOptions) {
  const std::string data = writeSmallGraph(dir_);
  auto refused = [&](auto change, const char* what) {
    TrainOptions o = shortRun(data);
    change(o);
    try {
      train(o);
      ADD_FAILURE() << what << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  refused([](TrainOptions& o) { o.model.name = "nonsense"; }, "--model");
  refused([](TrainOptions& o) { o.optim.batch_size = 0; }, "--batch-size");
  refused([](TrainOptions& o) { o.optim.lr = -1.0; }, "--lr");
  refused([](TrainOptions& o) { o.run.device = "tpu"; }, "--device");
  refused([](TrainOptions& o) { o.sampling.fanouts = {5, 5}; }, "--fanouts");  // lightgcn: full
  refused([](TrainOptions& o) { o.optim.kg_loss = "sum"; }, "--kg-loss");      // not kgat
  refused([](TrainOptions& o) {
    o.sampling.propagation = "sampled";
    o.sampling.fanouts = {5};
  }, "--fanouts");  // 1 value for 2 layers
}

TEST_F(TrainerTest, IncompleteCheckpointIsRefused) {
  fs::create_directories(dir_ / "ckpt");
  std::ofstream(dir_ / "ckpt" / "model.pt") << "partial";
  EXPECT_THROW(evaluateCheckpoint((dir_ / "ckpt").string()), FormatError);
  std::ofstream(dir_ / "ckpt" / "checkpoint.json") << "{\"kind\": \"kgrec-checkpoint\"";
  EXPECT_THROW(evaluateCheckpoint((dir_ / "ckpt").string()), FormatError);
}

// Checkpoints of the two earlier trainers are refused with what to do.
TEST_F(TrainerTest, OlderCheckpointFormatsAreRefusedSayingWhatToDo) {
  fs::create_directories(dir_ / "ckpt");
  for (const char* manifest : {R"({"kind": "kgrec-checkpoint", "version": 1})",
                               R"({"kind": "kgrec-dist-checkpoint", "version": 2})"}) {
    std::ofstream(dir_ / "ckpt" / "checkpoint.json", std::ios::trunc) << manifest;
    try {
      evaluateCheckpoint((dir_ / "ckpt").string());
      ADD_FAILURE() << manifest << " was loaded";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("Train again"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace kgrec
