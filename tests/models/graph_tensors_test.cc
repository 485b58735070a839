#include <gtest/gtest.h>

#include <cmath>

#include <torch/types.h>
#include <torch/utils.h>

#include "engine/graph/dataset_builder.h"
#include "engine/graph/normalized_adjacency.h"
#include "models/graph_tensors.h"
#include "models/block_gnn.h"

namespace kgrec {
namespace {

// 2 users, 2 items, 1 entity; train u0-i0, u0-i1, u1-i1 and a KG edge i0 -> e0 that
// LightGCN's graph must leave out. Degrees: u0 2, u1 1, i0 1, i1 2.
Dataset tiny() {
  DatasetBuilder b("tiny");
  b.addInteraction(Split::kTrain, 0, 0);
  b.addInteraction(Split::kTrain, 0, 1);
  b.addInteraction(Split::kTrain, 1, 1);
  b.addTriple({NodeType::kItem, 0}, b.relation("genre"), {NodeType::kEntity, 0});
  return b.build();
}

torch::Tensor dense(const WeightedCsr& a) {
  torch::Tensor m = torch::zeros({a.num_rows, a.num_rows});
  for (std::int64_t r = 0; r < a.num_rows; ++r) {
    for (std::int64_t e = a.indptr[r]; e < a.indptr[r + 1]; ++e) m[r][a.indices[e]] = a.values[e];
  }
  return m;
}

TEST(NormalizedAdjacency, HandComputedWeights) {
  WeightedCsr a = normalizedInteractionGraph(tiny());
  ASSERT_EQ(a.num_rows, 4);  // users + items; the entity is not part of it
  ASSERT_EQ(a.nnz(), 6);
  torch::Tensor m = dense(a);
  // Global ids u0=0 u1=1 i0=2 i1=3.
  EXPECT_FLOAT_EQ(m[0][2].item<float>(), 1.0f / std::sqrt(2.0f * 1.0f));
  EXPECT_FLOAT_EQ(m[0][3].item<float>(), 1.0f / std::sqrt(2.0f * 2.0f));
  EXPECT_FLOAT_EQ(m[1][3].item<float>(), 1.0f / std::sqrt(1.0f * 2.0f));
  EXPECT_FLOAT_EQ(m[2][1].item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(m, m.t()));
}

TEST(Spmm, AggregateMatchesDenseProductAndItsTransposeInBackward) {
  torch::manual_seed(3);
  // A random rectangular block (80 destinations over 300 sources) with empty rows, uneven
  // degrees and dim 37 (not a multiple of the vector width).
  const std::int64_t dst = 80, src = 300, dim = 37;
  torch::Tensor mask = (torch::rand({dst, src}) < 0.05);
  mask.narrow(0, 5, 10).zero_();
  mask.narrow(1, 20, 10).zero_();
  const torch::Tensor values = torch::rand({dst, src}) * mask;
  Block block;
  block.indptr.push_back(0);
  for (std::int64_t r = 0; r < dst; ++r) {
    for (std::int64_t c = 0; c < src; ++c) {
      if (mask[r][c].item<bool>()) {
        block.indices.push_back(static_cast<std::int32_t>(c));
        block.relations.push_back(0);
        block.edge_weight.push_back(values[r][c].item<float>());
      }
    }
    block.indptr.push_back(static_cast<std::int64_t>(block.indices.size()));
  }
  for (std::int64_t v = 0; v < src; ++v) block.src_nodes.push_back(v);
  block.dst_nodes.assign(block.src_nodes.begin(), block.src_nodes.begin() + dst);
  const BlockTensors a = BlockTensors::from(block, torch::kCPU);
  const torch::Tensor x0 = torch::randn({src, dim});
  torch::Tensor x = x0.clone().requires_grad_(true);
  torch::Tensor x_ref = x0.clone().requires_grad_(true);
  const torch::Tensor y = aggregate(a, x), y_ref = torch::mm(values, x_ref);
  EXPECT_TRUE(torch::allclose(y, y_ref, 1e-4, 1e-5));
  const torch::Tensor upstream = torch::randn({dst, dim});
  (y * upstream).sum().backward();
  (y_ref * upstream).sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), x_ref.grad(), 1e-4, 1e-5));
}

}  // namespace
}  // namespace kgrec
