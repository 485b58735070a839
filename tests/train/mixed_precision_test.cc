// --precision: autocast's scope and dtype, the fp16 loss scaler's rule, and bf16 training on
// the CPU against fp32 (same options otherwise). fp16 needs CUDA and is refused here; its
// training (the scaler inside the trainer) runs only on a GPU machine (scripts/gpu-check.sh).

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "comm/local_process_group.h"
#include "engine/common/error.h"
#include "engine/graph/synthetic.h"
#include "engine/store/dataset_io.h"
#include "engine/train/mixed_precision.h"
#include "engine/train/trainer.h"
#include "tests/store/temp_dir.h"

namespace kgrec {
namespace {

TEST(MixedPrecisionTest, PrecisionNamesAndDevices) {
  EXPECT_FALSE(autocastDtype("fp32", torch::kCPU).has_value());
  EXPECT_EQ(*autocastDtype("bf16", torch::kCPU), torch::kBFloat16);
  EXPECT_EQ(*autocastDtype("fp16", torch::Device(torch::kCUDA)), torch::kHalf);
  EXPECT_THROW(autocastDtype("fp16", torch::kCPU), ConfigError);
  EXPECT_THROW(autocastDtype("fp8", torch::kCPU), ConfigError);
}

TEST(MixedPrecisionTest, AutocastScopeCastsProductsAndRestoresTheState) {
  const torch::Tensor a = torch::randn({4, 8}), b = torch::randn({8, 3});
  {
    const AutocastScope bf16(torch::kCPU, torch::kBFloat16);
    const torch::Tensor product = torch::mm(a, b);
    EXPECT_EQ(product.scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(torch::allclose(product.to(torch::kFloat32), torch::mm(a.to(torch::kBFloat16), b.to(torch::kBFloat16)).to(torch::kFloat32)));
    // Parameters stay fp32: autocast casts per operation.
    EXPECT_EQ(a.scalar_type(), torch::kFloat32);
  }
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat32);
  {
    const AutocastScope none(torch::kCPU, c10::nullopt);
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat32);
  }
}

TEST(MixedPrecisionTest, LossScalerHalvesOnOverflowAndGrowsAfterTheInterval) {
  LossScaler::Options o;
  o.initial_scale = 1024.0;
  o.growth_interval = 3;
  o.min_scale = 256.0;
  LossScaler scaler(true, o);
  EXPECT_DOUBLE_EQ(scaler.scaleLoss(torch::tensor(2.0)).item<double>(), 2048.0);
  torch::Tensor g = torch::full({3}, 512.0f);
  EXPECT_TRUE(scaler.unscale({g, torch::Tensor()}));  // undefined gradients are skipped
  EXPECT_TRUE(torch::allclose(g, torch::full({3}, 0.5f)));
  torch::Tensor bad = torch::tensor({1.0f, std::numeric_limits<float>::infinity()});
  EXPECT_FALSE(scaler.unscale({g, bad}));
  scaler.update(false);
  EXPECT_DOUBLE_EQ(scaler.scale(), 512.0);
  scaler.update(false);
  scaler.update(false);
  EXPECT_DOUBLE_EQ(scaler.scale(), 256.0) << "never below min_scale";
  scaler.update(true);
  scaler.update(true);
  EXPECT_DOUBLE_EQ(scaler.scale(), 256.0);
  EXPECT_EQ(scaler.finiteSteps(), 2);
  scaler.update(true);
  EXPECT_DOUBLE_EQ(scaler.scale(), 512.0) << "doubled after 3 finite steps in a row";
  EXPECT_EQ(scaler.finiteSteps(), 0);
  scaler.restore(4096.0, 1);
  EXPECT_DOUBLE_EQ(scaler.scale(), 4096.0);
  // Disabled: the identity, always finite, nothing unscaled.
  LossScaler off;
  torch::Tensor nan = torch::tensor({std::nanf("")});
  EXPECT_TRUE(off.unscale({nan}));
  EXPECT_DOUBLE_EQ(off.scaleLoss(torch::tensor(3.0)).item<double>(), 3.0);
  off.update(false);
  EXPECT_DOUBLE_EQ(off.scale(), 1.0);
}

class MixedPrecisionTrainingTest : public TempDirTest {
 protected:
  TrainOptions run(const std::string& model, const std::string& propagation,
                   const std::string& precision) {
    const std::string data = path("data.h5");
    if (!std::filesystem::exists(data)) {
      SyntheticOptions s;
      s.users = 600;
      s.items = 300;
      s.entities = 100;
      s.seed = 5;
      writeDataset(generateSynthetic(s), data, true);
    }
    TrainOptions o;
    o.run.input = data;
    o.model.name = model;
    o.model.dim = 32;
    o.model.layers = 2;
    o.sampling.propagation = propagation;
    o.optim.epochs = 4;
    o.optim.batch_size = 512;
    o.optim.lr = 0.01;
    o.optim.precision = precision;
    o.run.quiet = true;
    return o;
  }
  static TrainResult train(const TrainOptions& o) {
    return Trainer(o, std::make_shared<LocalProcessGroup>()).run();
  }
};

// bf16 rounds the layers' products to 8 bits of mantissa, so the runs part ways, but they
// learn the same: every epoch's loss within 5% relative and recall@20 within 0.05 of fp32's.
TEST_F(MixedPrecisionTrainingTest, Bf16LearnsAsFp32OnTheCpu) {
  for (const auto& [model, propagation] :
       {std::pair{"sage", "sampled"}, std::pair{"kgat", "full"}}) {
    const TrainResult fp32 = train(run(model, propagation, "fp32"));
    const TrainResult bf16 = train(run(model, propagation, "bf16"));
    ASSERT_EQ(fp32.epochs.size(), bf16.epochs.size());
    double largest = 0;
    for (std::size_t e = 0; e < fp32.epochs.size(); ++e) {
      const double a = fp32.epochs[e].at("loss").get<double>();
      const double b = bf16.epochs[e].at("loss").get<double>();
      ASSERT_TRUE(std::isfinite(b)) << model << " epoch " << e + 1;
      largest = std::max(largest, std::abs(a - b) / a);
    }
    EXPECT_LE(largest, 0.05) << model;
    EXPECT_GT(largest, 0.0) << model << ": bf16 must change the arithmetic";
    EXPECT_NEAR(bf16.final_metrics.at("recall@20").get<double>(),
                fp32.final_metrics.at("recall@20").get<double>(), 0.05)
        << model;
    EXPECT_GT(bf16.final_metrics.at("recall@20").get<double>(),
              bf16.popularity_metrics.at("recall@20").get<double>())
        << model;
  }
}

TEST_F(MixedPrecisionTrainingTest, Fp16OnTheCpuIsRefusedSayingWhatToUse) {
  try {
    train(run("sage", "sampled", "fp16"));
    FAIL() << "fp16 on the CPU trained";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bf16"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kgrec
