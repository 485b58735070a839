// BlockGnn layers against hand-computed results on a tiny block, and the R-GCN basis
// decomposition against explicit per-relation weights.

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace kgrec
