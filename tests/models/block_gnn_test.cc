// BlockGnn layers against hand-computed results on a tiny block, and the R-GCN basis
// decomposition against explicit per-relation weights, KGAT attention and TransR by hand.

#include <gtest/gtest.h>

#include <cmath>

#include <torch/nn/init.h>

#include "engine/common/error.h"
#include "models/block_gnn.h"

namespace kgrec {
namespace {

// Two destinations (sources 0 and 1) and a third source node:
//   dst 0 <- src 1 (relation 0, weight 0.5), src 2 (relation 1, weight 2)
//   dst 1 <- src 0 (relation 1, weight 1)
Block tinyBlock() {
  Block b;
  b.dst_nodes = {10, 11};
  b.src_nodes = {10, 11, 12};
  b.indptr = {0, 2, 3};
  b.indices = {1, 2, 0};
  b.relations = {0, 1, 1};
  b.edge_weight = {0.5f, 2.0f, 1.0f};
  return b;
}

// Rows of the three sources, 2 wide.
torch::Tensor sources() { return torch::tensor({{1.0f, 2.0f}, {3.0f, -1.0f}, {0.5f, 4.0f}}); }

TEST(BlockGnn, LightGcnLayerIsTheWeightedNeighbourSum) {
  BlockGnnOptions o;
  o.dim = 2;
  o.layers = 1;
  BlockGnn model(o);
  const BlockTensors block = BlockTensors::from(tinyBlock(), torch::kCPU);
  // dst 0: 0.5 * (3, -1) + 2 * (0.5, 4) = (2.5, 7.5); dst 1: 1 * (1, 2).
  const torch::Tensor expected = torch::tensor({{2.5f, 7.5f}, {1.0f, 2.0f}});
  for (bool grad : {false, true}) {  // the spmm path and the autograd path
    torch::Tensor h = sources().set_requires_grad(grad);
    EXPECT_TRUE(torch::allclose(model->layer(0, block, h), expected));
  }
  // The output is the mean of layers 0 and 1 for the first rows.
  EXPECT_TRUE(torch::allclose(model->forward({block}, sources(), 2),
                              (sources().narrow(0, 0, 2) + expected) / 2));
}

TEST(BlockGnn, RgcnLayerMatchesAHandComputedStep) {
  BlockGnnOptions o;
  o.model = "rgcn";
  o.dim = 2;
  o.layers = 1;
  o.num_relations = 2;
  o.num_bases = 2;
  BlockGnn model(o);
  torch::NoGradGuard no_grad;
  // W_0 = 2 I, W_1 = [[0, 1], [1, 0]] (swap), through bases with a = I; self-loop = I, bias 0.
  model->bases(0).copy_(torch::stack({2 * torch::eye(2), torch::tensor({{0.0f, 1.0f}, {1.0f, 0.0f}})}));
  model->coefficients(0).copy_(torch::eye(2));
  model->self(0)->weight.copy_(torch::eye(2));
  model->self(0)->bias.zero_();
  const BlockTensors block = BlockTensors::from(tinyBlock(), torch::kCPU);
  // dst 0: self (1, 2) + 0.5 * W_0 (3, -1) + 2 * W_1 (0.5, 4) = (1, 2) + (3, -1) + (8, 1)
  // dst 1: self (3, -1) + 1 * W_1 (1, 2) = (3, -1) + (2, 1). The only layer: no ReLU.
  const torch::Tensor expected = torch::tensor({{12.0f, 2.0f}, {5.0f, 0.0f}});
  EXPECT_TRUE(torch::allclose(model->layer(0, block, sources()), expected))
      << model->layer(0, block, sources());
}

TEST(BlockGnn, BasisDecompositionWithOneBasisPerRelationIsThePerRelationWeights) {
  torch::manual_seed(3);
  const std::int64_t relations = 3, dim = 4;
  BlockGnnOptions o;
  o.model = "rgcn";
  o.dim = dim;
  o.layers = 1;
  o.num_relations = relations;
  o.num_bases = relations;
  BlockGnn model(o);
  torch::NoGradGuard no_grad;
  model->coefficients(0).copy_(torch::eye(relations));
  const torch::Tensor weights = model->bases(0).clone();  // W_r = V_r
  Block b;
  b.dst_nodes = {0, 1, 2};
  b.src_nodes = {0, 1, 2, 3, 4};
  b.indptr = {0, 3, 4, 6};
  b.indices = {1, 3, 4, 0, 2, 4};
  b.relations = {0, 2, 1, 1, 0, 2};
  b.edge_weight = {0.3f, 1.5f, -0.7f, 2.0f, 0.25f, 1.0f};
  const BlockTensors block = BlockTensors::from(b, torch::kCPU);
  const torch::Tensor h = torch::randn({5, dim});
  torch::Tensor expected = model->self(0)->forward(h.narrow(0, 0, 3));
  for (std::size_t d = 0; d + 1 < b.indptr.size(); ++d) {
    for (std::int64_t e = b.indptr[d]; e < b.indptr[d + 1]; ++e) {
      expected[static_cast<std::int64_t>(d)] +=
          b.edge_weight[e] * torch::matmul(h[b.indices[e]], weights[b.relations[e]]);
    }
  }
  EXPECT_TRUE(torch::allclose(model->layer(0, block, h), expected, 1e-5, 1e-6));
}

TEST(BlockGnn, SegmentSoftmaxNormalisesEachDestinationsEdges) {
  // Segments 0: {0, 3}, 1: nothing, 2: {1, 2, 4}.
  const torch::Tensor scores = torch::tensor({1.0f, 90.0f, 95.0f, 3.0f, 100.0f});
  const torch::Tensor segment = torch::tensor({0, 2, 2, 0, 2}, torch::kInt64);
  const torch::Tensor alpha = segmentSoftmax(scores, segment, 3);
  const double z0 = std::exp(1.0) + std::exp(3.0);
  EXPECT_NEAR(alpha[0].item<float>(), std::exp(1.0) / z0, 1e-6);
  EXPECT_NEAR(alpha[3].item<float>(), std::exp(3.0) / z0, 1e-6);
  // exp(100) overflows float: the per-segment shift by 100 keeps every term finite.
  const double z2 = std::exp(-10.0) + std::exp(-5.0) + 1.0;
  EXPECT_NEAR(alpha[4].item<float>(), 1.0 / z2, 1e-6);
  const double small = std::exp(-10.0) / z2;  // 4.5e-5: checked relative to its own size
  EXPECT_NEAR(alpha[1].item<float>(), small, 1e-5 * small);
  EXPECT_NEAR(alpha[2].item<float>(), std::exp(-5.0) / z2, 1e-6);
}

// KGAT with W_0 = I, W_1 = swap, e_0 = (0, 0), e_1 = (1, 0), W1 = I, W2 = diag(1, 2), no
// biases: one layer on tinyBlock computed with scalars.
TEST(BlockGnn, KgatLayerMatchesAHandComputedStep) {
  BlockGnnOptions o;
  o.model = "kgat";
  o.dim = 2;
  o.layers = 1;
  o.num_relations = 2;
  BlockGnn model(o);
  torch::NoGradGuard no_grad;
  model->relationProjection().copy_(
      torch::stack({torch::eye(2), torch::tensor({{0.0f, 1.0f}, {1.0f, 0.0f}})}));
  model->relationEmbedding().copy_(torch::tensor({{0.0f, 0.0f}, {1.0f, 0.0f}}));
  model->biSum(0)->weight.copy_(torch::eye(2));
  model->biSum(0)->bias.zero_();
  model->biProduct(0)->weight.copy_(torch::diag(torch::tensor({1.0f, 2.0f})));
  model->biProduct(0)->bias.zero_();
  const BlockTensors block = BlockTensors::from(tinyBlock(), torch::kCPU);

  // dst 0 = (1, 2) <- src 1 = (3, -1) by relation 0 (W = I, e = 0):
  //   score (3, -1) . tanh((1, 2));
  // dst 0 <- src 2 = (0.5, 4) by relation 1 (W = swap, e = (1, 0)):
  //   score (4, 0.5) . tanh((2, 1) + (1, 0)).
  const double s1 = 3 * std::tanh(1.0) - std::tanh(2.0);
  const double s2 = 4 * std::tanh(3.0) + 0.5 * std::tanh(1.0);
  const double a1 = std::exp(s1) / (std::exp(s1) + std::exp(s2)), a2 = 1 - a1;
  // dst 1 = (3, -1) has one neighbour: attention 1, e_N = (1, 2).
  const double n0[2] = {a1 * 3 + a2 * 0.5, a1 * -1 + a2 * 4}, n1[2] = {1, 2};
  const double self0[2] = {1, 2}, self1[2] = {3, -1};
  auto leaky = [](double x) { return x > 0 ? x : 0.2 * x; };
  const double w2[2] = {1, 2};
  torch::Tensor expected = torch::empty({2, 2});
  for (int j = 0; j < 2; ++j) {
    expected[0][j] = leaky(self0[j] + n0[j]) + leaky(w2[j] * self0[j] * n0[j]);
    expected[1][j] = leaky(self1[j] + n1[j]) + leaky(w2[j] * self1[j] * n1[j]);
  }
  const torch::Tensor scores = model->attentionScores(block, sources());
  EXPECT_NEAR(scores[0].item<float>(), s1, 1e-5);
  EXPECT_NEAR(scores[1].item<float>(), s2, 1e-5);
  const torch::Tensor out = model->layer(0, block, sources());
  EXPECT_TRUE(torch::allclose(out, expected, 1e-5, 1e-6)) << out << expected;
  // The output: layer 0 next to the L2-normalised layer 1.
  const torch::Tensor combined = model->forward({block}, sources(), 2);
  ASSERT_EQ(combined.size(1), model->outputDim());
  EXPECT_TRUE(torch::allclose(combined.narrow(1, 0, 2), sources().narrow(0, 0, 2)));
  EXPECT_TRUE(torch::allclose(combined.narrow(1, 2, 2),
                              expected / expected.norm(2, 1, true), 1e-5, 1e-6));
  // TransR: (1, 2) -relation 1-> (3, -1): swap (1, 2) + (1, 0) - swap (3, -1) = (4, -2).
  EXPECT_NEAR(model
                  ->transrDistance(torch::tensor({{1.0f, 2.0f}}), torch::tensor({1}, torch::kInt64),
                                   torch::tensor({{3.0f, -1.0f}}))
                  .item<float>(),
              20.0, 1e-5);
}

TEST(BlockGnn, RejectsBadOptions) {
  BlockGnnOptions o;
  o.model = "gat";
  EXPECT_THROW(BlockGnn{o}, ConfigError);
  o.model = "rgcn";
  o.num_relations = 2;
  o.num_bases = 3;
  EXPECT_THROW(BlockGnn{o}, ConfigError);
  o.model = "sage";
  o.item_input = NodeInput::kLm;  // no features
  EXPECT_THROW(BlockGnn{o}, ConfigError);
}

// A block edge whose relation id the model does not know is refused, by rgcn's layer and by
// kgat's attention alike (the tiny block has relations 0 and 1).
TEST(BlockGnn, RefusesRelationIdsTheModelDoesNotKnow) {
  const BlockTensors block = BlockTensors::from(tinyBlock(), torch::kCPU);
  for (const char* name : {"rgcn", "kgat"}) {
    SCOPED_TRACE(name);
    BlockGnnOptions o;
    o.model = name;
    o.dim = 2;
    o.layers = 1;
    o.num_relations = 1;
    o.num_bases = 1;
    BlockGnn model(o);
    torch::NoGradGuard no_grad;
    EXPECT_THROW(model->layer(0, block, sources()), Error);
  }
}

}  // namespace
}  // namespace kgrec
