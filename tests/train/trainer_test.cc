#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/serialize.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "engine/common/error.h"
#include "engine/graph/synthetic.h"
#include "engine/store/dataset_io.h"
#include "engine/train/checkpoint.h"
#include "comm/local_process_group.h"
#include "engine/train/trainer.h"
#include "tests/store/temp_dir.h"
#include "tests/train/checkpoint_tensors.h"

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

// Training on a device (--device): the refusal without CUDA, checkpoints that hold CPU tensors
// whatever the device, and (cases named *Gpu*, skipped without a visible CUDA device) the same
// trajectory on a GPU as on the CPU, a GPU checkpoint resumed on the CPU and back.

// Float32 sums in another order (cuSPARSE and cuBLAS against kgrec's CSR kernel and the CPU
// BLAS) over a few steps: the bound is a judgement, not a measurement (never run on a GPU yet).
constexpr double kLossTolerance = 1e-4;    // relative, per epoch's loss
constexpr double kTensorTolerance = 1e-3;  // absolute, per checkpoint tensor element
constexpr double kMetricTolerance = 1e-2;  // absolute, recall@20 and ndcg@20

// A few steps (about 11 per epoch) of `model` on `device`, evaluated after the last epoch.
TrainOptions deviceRun(const std::string& data, const std::string& model,
                       const std::string& device) {
  TrainOptions o = shortRun(data);
  o.model.name = model;
  o.run.device = device;
  o.optim.epochs = 2;
  o.optim.batch_size = 1024;
  return o;
}

bool gpuVisible() { return torch::cuda::is_available(); }

// Every tensor of every file of the checkpoint in `dir` (one rank's), loaded without a device
// map, so each keeps the device it was written from.
std::map<std::string, torch::Tensor> allCheckpointTensors(const std::string& dir) {
  std::map<std::string, torch::Tensor> tensors = testing::checkpointTensors(dir);
  torch::serialize::InputArchive archive;
  archive.load_from(rankStateFile(dir, 0));
  testing::readTensors(archive, "rank-0.", &tensors);
  return tensors;
}

// Every tensor of the checkpoint in `dir` is a CPU tensor; `dense`: the model has dense
// weights, whose Adam state the rank file holds too.
void expectAllOnHost(const std::string& dir, bool dense) {
  const auto tensors = allCheckpointTensors(dir);
  EXPECT_EQ(tensors.count("rank-0.table"), 1u);
  const auto adam = std::count_if(tensors.begin(), tensors.end(), [](const auto& entry) {
    return entry.first.rfind("rank-0.adam.", 0) == 0;
  });
  EXPECT_EQ(adam > 0, dense) << adam << " tensors of the dense Adam state";
  for (const auto& [name, tensor] : tensors) {
    EXPECT_TRUE(tensor.device().is_cpu()) << name << " was written on " << tensor.device();
  }
}

// The epochs' losses and the final metrics of `a` and `b` agree within the tolerances.
void expectSameTrajectory(const TrainResult& a, const TrainResult& b) {
  ASSERT_EQ(a.epochs.size(), b.epochs.size());
  for (std::size_t e = 0; e < a.epochs.size(); ++e) {
    const double la = a.epochs[e].at("loss").get<double>(), lb = b.epochs[e].at("loss").get<double>();
    EXPECT_LE(std::abs(la - lb), kLossTolerance * std::abs(la)) << "epoch " << e + 1 << ": " << la
                                                                << " against " << lb;
  }
  for (const char* metric : {"recall@20", "ndcg@20"}) {
    EXPECT_NEAR(a.final_metrics.at(metric).get<double>(), b.final_metrics.at(metric).get<double>(),
                kMetricTolerance)
        << metric;
  }
}

void expectSameCheckpointTensors(const std::string& a, const std::string& b) {
  std::string why, where;
  const double difference = testing::largestDifference(testing::checkpointTensors(a),
                                                       testing::checkpointTensors(b), &why, &where);
  EXPECT_LE(difference, kTensorTolerance) << why << where;
}

// Resumes the 2-epoch sage run whose first epoch's checkpoint is in `first` on `device`, and
// checks that it ends where an uninterrupted CPU run does: the second epoch's loss within
// kLossTolerance, every checkpoint tensor within kTensorTolerance. Returns the resumed run's
// checkpoint folder.
std::string expectResumeEndsLikeOneCpuRun(const fs::path& dir, const std::string& data,
                                          const std::string& first, const std::string& device) {
  TrainOptions resumed = deviceRun(data, "sage", device);
  resumed.run.resume_dir = first;
  resumed.run.checkpoint_dir = (dir / "resumed").string();
  TrainOptions whole = deviceRun(data, "sage", "cpu");
  whole.run.checkpoint_dir = (dir / "whole").string();
  const TrainResult r = train(resumed);
  const TrainResult w = train(whole);
  EXPECT_EQ(r.epochs.size(), 1u);  // the second epoch only
  if (r.epochs.size() == 1) {
    const double lr = r.epochs[0].at("loss").get<double>(), lw = w.epochs[1].at("loss").get<double>();
    EXPECT_LE(std::abs(lr - lw), kLossTolerance * std::abs(lw)) << lr << " against " << lw;
  }
  expectSameCheckpointTensors(resumed.run.checkpoint_dir, whole.run.checkpoint_dir);
  return resumed.run.checkpoint_dir;
}

TEST_F(TrainerTest, CudaWithoutAVisibleDeviceIsRefusedSayingSo) {
  if (gpuVisible()) GTEST_SKIP() << "a CUDA device is visible: the refusal cannot be seen here";
  const std::string data = writeSmallGraph(dir_);
  for (const char* device : {"cuda", "cuda:0", "cuda:1"}) {
    try {
      train(deviceRun(data, "lightgcn", device));
      ADD_FAILURE() << "--device " << device << " was accepted without a CUDA device";
    } catch (const ConfigError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("no CUDA device is visible"), std::string::npos) << message;
#ifndef KGREC_HAVE_CUDA
      EXPECT_NE(message.find("no CUDA support"), std::string::npos) << message;
#endif
    }
  }
}

TEST_F(TrainerTest, MalformedDevicesAreRefused) {
  const std::string data = writeSmallGraph(dir_);
  for (const char* device : {"gpu", "cuda0", "cuda:", "cuda:x", "cuda:-1", "cudax"}) {
    TrainOptions o = deviceRun(data, "lightgcn", device);
    EXPECT_THROW(train(o), ConfigError) << device;
  }
}

// Checkpoints hold CPU tensors (the rank file: the ID rows, and the dense Adam state where the
// model has dense weights), and resuming moves them onto the run's device: here the CPU, where
// the resumed run ends exactly where an uninterrupted one does. A CPU run writes host tensors
// anyway; the case where that check can fail is GpuCheckpointResumesOnTheCpu.
TEST_F(TrainerTest, CheckpointHoldsCpuTensorsAndResumesOntoTheRunsDevice) {
  const std::string data = writeSmallGraph(dir_);
  for (const char* model : {"lightgcn", "kgat"}) {  // kgat: dense weights, both Adam states
    SCOPED_TRACE(model);
    TrainOptions first = deviceRun(data, model, "cpu");
    first.optim.epochs = 1;
    first.run.checkpoint_dir = (dir_ / model / "first").string();
    train(first);
    expectAllOnHost(first.run.checkpoint_dir, std::string(model) == "kgat");

    TrainOptions resumed = deviceRun(data, model, "cpu");
    resumed.run.resume_dir = first.run.checkpoint_dir;
    resumed.run.checkpoint_dir = (dir_ / model / "resumed").string();
    const TrainResult r = train(resumed);
    TrainOptions whole = deviceRun(data, model, "cpu");
    whole.run.checkpoint_dir = (dir_ / model / "whole").string();
    const TrainResult w = train(whole);
    EXPECT_EQ(r.epochs.back().at("loss"), w.epochs.back().at("loss"));
    EXPECT_EQ(r.final_metrics.at("recall@20"), w.final_metrics.at("recall@20"));
    std::string why;
    EXPECT_EQ(testing::largestDifference(testing::checkpointTensors(resumed.run.checkpoint_dir),
                                         testing::checkpointTensors(whole.run.checkpoint_dir),
                                         &why),
              0.0)
        << why;
  }
}

// The same steps on the GPU as on the CPU: full-graph lightgcn and sampled sage (the batches
// and blocks are sampled on the host, so both devices see the same ones).
TEST_F(TrainerTest, GpuFollowsTheCpuTrajectory) {
  if (!gpuVisible()) GTEST_SKIP() << "no CUDA device is visible";
  const std::string data = writeSmallGraph(dir_);
  for (const char* model : {"lightgcn", "sage"}) {
    SCOPED_TRACE(model);
    TrainOptions cpu = deviceRun(data, model, "cpu"), gpu = deviceRun(data, model, "cuda");
    cpu.run.checkpoint_dir = (dir_ / model / "cpu").string();
    gpu.run.checkpoint_dir = (dir_ / model / "gpu").string();
    const TrainResult on_cpu = train(cpu);
    const TrainResult on_gpu = train(gpu);
    expectSameTrajectory(on_cpu, on_gpu);
    expectAllOnHost(gpu.run.checkpoint_dir, std::string(model) == "sage");
    expectSameCheckpointTensors(cpu.run.checkpoint_dir, gpu.run.checkpoint_dir);
  }
}

// A checkpoint written by a GPU run holds CPU tensors; `kgrec eval` reads it on the CPU, and a
// run resumed from it on the CPU ends where a CPU run does.
TEST_F(TrainerTest, GpuCheckpointResumesOnTheCpu) {
  if (!gpuVisible()) GTEST_SKIP() << "no CUDA device is visible";
  const std::string data = writeSmallGraph(dir_);
  TrainOptions gpu = deviceRun(data, "sage", "cuda");
  gpu.optim.epochs = 1;
  gpu.run.checkpoint_dir = (dir_ / "gpu").string();
  const TrainResult on_gpu = train(gpu);
  expectAllOnHost(gpu.run.checkpoint_dir, /*dense=*/true);
  const nlohmann::json evaluated = evaluateCheckpoint(gpu.run.checkpoint_dir);
  EXPECT_NEAR(evaluated.at("recall@20").get<double>(),
              on_gpu.final_metrics.at("recall@20").get<double>(), kMetricTolerance);

  expectResumeEndsLikeOneCpuRun(dir_, data, gpu.run.checkpoint_dir, "cpu");
}

// And back: a CPU run's checkpoint resumed on the GPU ends where a CPU run does (within the
// device bounds), and the GPU run's own checkpoint holds CPU tensors again.
TEST_F(TrainerTest, CpuCheckpointResumesOnTheGpu) {
  if (!gpuVisible()) GTEST_SKIP() << "no CUDA device is visible";
  const std::string data = writeSmallGraph(dir_);
  TrainOptions cpu = deviceRun(data, "sage", "cpu");
  cpu.optim.epochs = 1;
  cpu.run.checkpoint_dir = (dir_ / "cpu").string();
  train(cpu);
  const std::string resumed =
      expectResumeEndsLikeOneCpuRun(dir_, data, cpu.run.checkpoint_dir, "cuda");
  expectAllOnHost(resumed, /*dense=*/true);
}

}  // namespace
}  // namespace kgrec
