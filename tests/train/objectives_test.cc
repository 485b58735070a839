// The training objectives (docs/objectives.md): each loss against values computed by hand on a
// tiny batch, SimGCL's noise, the spectral initialisation against a dense SVD, the options'
// checks, training with each objective, and a resume that changes the loss.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "comm/local_process_group.h"
#include "engine/common/error.h"
#include "engine/graph/synthetic.h"
#include "engine/store/dataset_io.h"
#include "engine/train/losses.h"
#include "engine/train/simgcl.h"
#include "engine/train/spectral_init.h"
#include "engine/train/trainer.h"
#include "models/normalized_interactions.h"
#include "tests/store/temp_dir.h"

namespace kgrec {
namespace {

// Two seeds with one negative each, rows of dim 2:
//   seed 0: u0 = (1, 0), p0 = (1, 1), n0 = (0, 1);   seed 1: u1 = (0, 2), p1 = (2, 0), n1 = (1, 1)
struct TinyBatch {
  MiniBatch batch;
  torch::Tensor out = torch::tensor({1.f, 0.f, 1.f, 1.f, 0.f, 1.f, 0.f, 2.f, 2.f, 0.f, 1.f, 1.f})
                          .view({6, 2});
  torch::Tensor h0 = torch::zeros({6, 2});
  explicit TinyBatch(std::int64_t second_positive = 201) {
    batch.users = {100, 101};
    batch.positives = {200, second_positive};
    batch.negatives = {202, 203};
    batch.user_rows = {0, 3};
    batch.positive_rows = {1, 4};
    batch.negative_rows = {2, 5};
  }
};

double softplus(double x) { return std::log1p(std::exp(x)); }

TEST(ObjectivesTest, BprByHand) {
  const TinyBatch t;
  const LossValue v = bprLoss(t.batch, t.out, t.h0, 1, 0.0, 2);
  // seed 0: softplus(0 - 1); seed 1: softplus(2 - 0).
  const double expected = softplus(-1.0) + softplus(2.0);
  EXPECT_NEAR(v.sum, expected, 1e-5);
  EXPECT_NEAR(v.loss.item<double>(), expected / 2, 1e-5);
}

TEST(ObjectivesTest, CosineContrastiveLossByHand) {
  const TinyBatch t;
  ObjectiveOptions o;
  o.loss = "ccl";
  o.margin = 0.4;
  o.negative_weight = 1.0;
  const LossValue v = cclLoss(t.batch, t.out, t.h0, 1, 0.0, 2, o);
  // seed 0: 1 - 1/sqrt(2), negative cosine 0 under the margin; seed 1: 1 - 0, and the
  // negative's cosine 1/sqrt(2) is 0.30711 above it.
  const double expected = (1.0 - M_SQRT1_2) + 1.0 + (M_SQRT1_2 - 0.4);
  EXPECT_NEAR(v.sum, expected, 1e-5);
  EXPECT_NEAR(v.sum, 1.6, 1e-5);
  EXPECT_NEAR(v.loss.item<double>(), 0.8, 1e-5);
  o.negative_weight = 3.0;
  o.margin = 0.0;
  EXPECT_NEAR(cclLoss(t.batch, t.out, t.h0, 1, 0.0, 2, o).sum,
              (1.0 - M_SQRT1_2) + 1.0 + 3.0 * M_SQRT1_2, 1e-5);
}

TEST(ObjectivesTest, SampledSoftmaxByHand) {
  LocalProcessGroup group;
  ObjectiveOptions o;
  o.loss = "softmax";
  o.similarity = "dot";
  o.temperature = 1.0;
  {
    const TinyBatch t;
    const LossValue v = softmaxLoss(t.batch, t.out, t.h0, 1, 0.0, 2, o, group);
    // seed 0: positive u0.p0 = 1 against the other positive u0.p1 = 2 and u0.n0 = 0;
    // seed 1: positive u1.p1 = 0 against u1.p0 = 2 and u1.n1 = 2.
    const double expected = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(0.0)) - 1.0 +
                            std::log(std::exp(0.0) + std::exp(2.0) + std::exp(2.0));
    EXPECT_NEAR(v.sum, expected, 1e-5);
    EXPECT_NEAR(v.loss.item<double>(), expected / 2, 1e-5);
    // Cosine over a temperature of 0.5: seed 0's positive 1/sqrt(2), in-batch 1, negative 0;
    // seed 1's positive 0, in-batch 1/sqrt(2), negative 1/sqrt(2).
    o.similarity = "cosine";
    o.temperature = 0.5;
    const double c = M_SQRT1_2 / 0.5;
    const double cosine = std::log(std::exp(c) + std::exp(2.0) + std::exp(0.0)) - c +
                          std::log(std::exp(0.0) + std::exp(c) + std::exp(c));
    EXPECT_NEAR(softmaxLoss(t.batch, t.out, t.h0, 1, 0.0, 2, o, group).sum, cosine, 1e-5);
  }
  {
    // Both seeds have item 200 as positive: it is no in-batch negative of either.
    o.similarity = "dot";
    o.temperature = 1.0;
    const TinyBatch t(200);
    const double expected = std::log(std::exp(1.0) + std::exp(0.0)) - 1.0 +
                            std::log(std::exp(0.0) + std::exp(2.0));
    EXPECT_NEAR(softmaxLoss(t.batch, t.out, t.h0, 1, 0.0, 2, o, group).sum, expected, 1e-5);
  }
}

TEST(ObjectivesTest, SoftmaxGradientMatchesFiniteDifferences) {
  LocalProcessGroup group;
  ObjectiveOptions o;
  o.loss = "softmax";
  o.similarity = "cosine";
  const TinyBatch t;
  torch::Tensor out = t.out.to(torch::kFloat64).requires_grad_();
  const auto loss = [&](const torch::Tensor& x) {
    return softmaxLoss(t.batch, x, t.h0.to(torch::kFloat64), 1, 0.0, 2, o, group).loss;
  };
  loss(out).backward();
  const torch::Tensor grad = out.grad().clone();
  torch::NoGradGuard no_grad;
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    torch::Tensor plus = out.detach().clone(), minus = out.detach().clone();
    plus.view({-1})[i] += 1e-6;
    minus.view({-1})[i] -= 1e-6;
    const double numeric = (loss(plus).item<double>() - loss(minus).item<double>()) / 2e-6;
    EXPECT_NEAR(grad.view({-1})[i].item<double>(), numeric, 1e-5) << "entry " << i;
  }
}

TEST(ObjectivesTest, SimGclNoiseHasNormEpsFollowsTheSignAndDependsOnNodeIdsOnly) {
  const std::vector<std::int64_t> nodes{7, 3, 11};
  const LayerHook hook = simgclPerturbation(
      [&](std::int64_t) -> const std::vector<std::int64_t>& { return nodes; }, 0.1, 2020, 0, 5, 0);
  const torch::Tensor h = torch::tensor({1.f, -2.f, 3.f, -1.f, 1.f, 1.f}).view({3, 2});
  const torch::Tensor noise = hook(0, h) - h;
  EXPECT_TRUE(torch::allclose(noise.norm(2, 1), torch::full({3}, 0.1f), 1e-5, 1e-6)) << noise;
  EXPECT_TRUE(torch::equal(torch::sign(noise), torch::sign(h))) << noise;
  // Node 3's row is the same wherever it stands; another view, step or layer draws anew.
  const std::vector<std::int64_t> alone{3};
  const LayerHook single = simgclPerturbation(
      [&](std::int64_t) -> const std::vector<std::int64_t>& { return alone; }, 0.1, 2020, 0, 5, 0);
  EXPECT_TRUE(torch::equal(single(0, h.narrow(0, 1, 1)) - h.narrow(0, 1, 1), noise.narrow(0, 1, 1)));
  EXPECT_FALSE(torch::equal(seededUniformRows(nodes, 2, 1), seededUniformRows(nodes, 2, 2)));
  EXPECT_FALSE(torch::equal(hook(1, h) - h, noise));
}

TEST(ObjectivesTest, SimGclLossIsInfoNceBetweenTheViews) {
  LocalProcessGroup group;
  const TinyBatch t;
  // View 2 equal to view 1: each row's positive logit is 1 / temperature.
  const torch::Tensor views = t.out;
  const double tau = 0.5;
  const auto unit = [](double x, double y) {
    const double n = std::hypot(x, y);
    return std::pair{x / n, y / n};
  };
  // Users u0 = (1, 0), u1 = (0, 1) (unit rows): cos 0 between them.
  const double users = 2 * (std::log(std::exp(1 / tau) + std::exp(0.0)) - 1 / tau);
  // Items p0 = (1, 1), p1 = (1, 0): cos 1/sqrt(2).
  const auto [ax, ay] = unit(1, 1);
  const double cross = ax * 1 + ay * 0;
  const double items = 2 * (std::log(std::exp(1 / tau) + std::exp(cross / tau)) - 1 / tau);
  EXPECT_NEAR(simgclLoss(group, t.batch, views, views, tau).item<double>(), users + items, 1e-5);
}

TEST(ObjectivesTest, SpectralRowsAreTheTopSingularVectorsOfTheNormalisedMatrix) {
  // 5 users x 4 items.
  const std::vector<Interaction> train{{0, 0}, {0, 1}, {1, 0}, {1, 2}, {2, 1}, {2, 2},
                                       {2, 3}, {3, 3}, {4, 0}, {4, 3}, {3, 1}};
  NodeSpace nodes;
  nodes.num_users = 5;
  nodes.num_items = 4;
  nodes.num_entities = 2;
  torch::Tensor dense = torch::zeros({5, 4});
  std::vector<double> du(5, 0), di(4, 0);
  for (const Interaction& x : train) {
    ++du[x.user];
    ++di[x.item];
  }
  for (const Interaction& x : train) dense[x.user][x.item] = 1.0 / std::sqrt(du[x.user] * di[x.item]);
  // The helper's R~ is the dense formula.
  const NormalizedInteractions r = normalizedInteractions(userItemCsr(train, 5), 4);
  EXPECT_TRUE(torch::allclose(spmm(r.user_items, torch::eye(4)), dense, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(spmm(r.item_users, torch::eye(5)), dense.t(), 1e-6, 1e-6));

  const std::int64_t k = 2;
  const SpectralRows rows = spectralRows(train, nodes, /*dim=*/3, 0.1, 7);
  const auto [u, s, vh] = torch::linalg_svd(dense, false);
  // Rows are [U_k S^1/2, 0] and [V_k S^1/2, 0] up to the columns' signs and one scale c: the
  // item columns are the top right singular vectors, and users x items^T = c^2 U_k S_k V_k^T.
  ASSERT_EQ(rows.users.sizes(), (std::vector<std::int64_t>{5, 3}));
  ASSERT_EQ(rows.items.sizes(), (std::vector<std::int64_t>{4, 3}));
  for (std::int64_t j = 0; j < k; ++j) {
    const torch::Tensor column = rows.items.select(1, j);
    const double cosine = std::abs(
        (column * vh[j]).sum().item<double>() / column.norm().item<double>());
    EXPECT_NEAR(cosine, 1.0, 1e-4) << "item column " << j;
  }
  const torch::Tensor low_rank = u.narrow(1, 0, 3).mm(torch::diag(s.narrow(0, 0, 3))).mm(vh.narrow(0, 0, 3));
  const torch::Tensor product = rows.users.mm(rows.items.t());
  const double c2 = (product * low_rank).sum().item<double>() / low_rank.pow(2).sum().item<double>();
  EXPECT_TRUE(torch::allclose(product, low_rank * c2, 1e-4, 1e-4)) << product << low_rank;
  // Root mean square 0.1 over users' and items' rows.
  const double rms = std::sqrt((rows.users.pow(2).sum() + rows.items.pow(2).sum()).item<double>() / (9 * 3));
  EXPECT_NEAR(rms, 0.1, 1e-5);

  // Applied to a table of owned rows: users and items replaced, entities kept.
  torch::Tensor table = torch::full({3, 3}, 5.0f);
  applySpectralRows(rows, nodes, {10, 1, 6}, table);  // an entity, user 1, item 1
  EXPECT_TRUE(torch::equal(table[0], torch::full({3}, 5.0f)));
  EXPECT_TRUE(torch::equal(table[1], rows.users[1]));
  EXPECT_TRUE(torch::equal(table[2], rows.items[1]));
}

TEST(ObjectivesTest, BadObjectiveOptionsNameTheirFlag) {
  auto refused = [](auto change, const char* flag) {
    TrainOptions o;
    change(o);
    try {
      resolveTrainOptions(o);
      ADD_FAILURE() << flag << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(flag), std::string::npos) << e.what();
    }
  };
  refused([](TrainOptions& o) { o.objective.loss = "hinge"; }, "--loss");
  refused([](TrainOptions& o) { o.objective.similarity = "l1"; }, "--similarity");
  refused([](TrainOptions& o) { o.objective.similarity = "cosine"; }, "--similarity");  // bpr
  refused([](TrainOptions& o) {
    o.objective.loss = "ccl";
    o.objective.similarity = "dot";
  }, "--similarity");
  refused([](TrainOptions& o) { o.objective.temperature = 0.0; }, "--temperature");
  refused([](TrainOptions& o) { o.objective.margin = 1.5; }, "--margin");
  refused([](TrainOptions& o) { o.objective.negative_weight = -1.0; }, "--negative-weight");
  refused([](TrainOptions& o) { o.objective.ssl = "sgl"; }, "--ssl");
  refused([](TrainOptions& o) { o.objective.ssl_weight = -0.1; }, "--ssl-weight");
  refused([](TrainOptions& o) { o.objective.ssl_eps = std::nan(""); }, "--ssl-eps");
  refused([](TrainOptions& o) { o.objective.ssl_temperature = -1.0; }, "--ssl-temperature");
  refused([](TrainOptions& o) { o.objective.init = "xavier"; }, "--init");
  refused([](TrainOptions& o) {
    o.model.name = "graph-filter";
    o.objective.loss = "softmax";
  }, "--loss");
  // The defaults resolve: cosine for softmax and ccl, dot for bpr.
  TrainOptions o;
  EXPECT_EQ(resolveTrainOptions(o).objective.similarity, "dot");
  o.objective.loss = "softmax";
  EXPECT_EQ(resolveTrainOptions(o).objective.similarity, "cosine");
}

class ObjectivesTrainingTest : public TempDirTest {
 protected:
  TrainOptions shortRun() {
    SyntheticOptions s;
    s.users = 400;
    s.items = 200;
    s.entities = 50;
    s.seed = 5;
    const std::string data = path("data.h5");
    if (!std::filesystem::exists(data)) writeDataset(generateSynthetic(s), data, true);
    TrainOptions o;
    o.run.input = data;
    o.optim.epochs = 6;
    o.optim.batch_size = 256;
    o.model.dim = 16;
    o.model.layers = 2;
    o.optim.lr = 0.01;
    o.sampling.negatives = 4;
    o.run.eval_every = 0;
    o.run.quiet = true;
    return o;
  }
  static TrainResult train(const TrainOptions& o) {
    return Trainer(o, std::make_shared<LocalProcessGroup>()).run();
  }
};

// Every objective learns the synthetic communities (clearly above popularity) in both modes.
TEST_F(ObjectivesTrainingTest, EachObjectiveLearns) {
  struct Case {
    const char* name;
    void (*set)(TrainOptions&);
  };
  const Case cases[] = {
      {"softmax", [](TrainOptions& o) { o.objective.loss = "softmax"; }},
      {"ccl", [](TrainOptions& o) { o.objective.loss = "ccl"; }},
      {"simgcl", [](TrainOptions& o) { o.objective.ssl = "simgcl"; }},
      {"svd", [](TrainOptions& o) { o.objective.init = "svd"; }},
  };
  for (const char* propagation : {"full", "sampled"}) {
    for (const Case& c : cases) {
      TrainOptions o = shortRun();
      o.sampling.propagation = propagation;
      c.set(o);
      const TrainResult r = train(o);
      const double recall = r.final_metrics.at("recall@20").get<double>();
      const double popularity = r.popularity_metrics.at("recall@20").get<double>();
      EXPECT_GT(recall, 1.5 * popularity) << c.name << " " << propagation;
      EXPECT_TRUE(std::isfinite(r.epochs.back().at("loss").get<double>())) << c.name;
      EXPECT_EQ(r.epochs.back().contains("ssl_loss"), std::string(c.name) == "simgcl") << c.name;
    }
  }
}

TEST_F(ObjectivesTrainingTest, ResumeWithAnotherLossIsRefused) {
  TrainOptions o = shortRun();
  o.optim.epochs = 1;
  o.objective.loss = "softmax";
  o.run.checkpoint_dir = path("ckpt");
  train(o);
  TrainOptions again = shortRun();
  again.optim.epochs = 2;
  again.run.resume_dir = o.run.checkpoint_dir;
  try {
    train(again);  // bpr
    ADD_FAILURE() << "resumed a softmax checkpoint with bpr";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("loss"), std::string::npos) << e.what();
  }
  again.objective.loss = "softmax";
  EXPECT_EQ(train(again).epochs.size(), 1u);  // the same settings resume
}

}  // namespace
}  // namespace kgrec
