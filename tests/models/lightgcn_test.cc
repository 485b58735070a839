#include <gtest/gtest.h>

#include <cmath>

#include <torch/types.h>
#include <torch/utils.h>

#include "engine/graph/dataset_builder.h"
#include "engine/graph/normalized_adjacency.h"
#include "models/graph_tensors.h"
#include "models/lightgcn.h"

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

TEST(Spmm, LayerMeanMatchesDenseProductsAndGradient) {
  torch::manual_seed(3);
  // A random symmetric sparse matrix with empty rows, uneven degrees and dim 37 (not a
  // multiple of the vector width).
  const std::int64_t n = 300, dim = 37;
  torch::Tensor mask = (torch::rand({n, n}) < 0.03);
  mask = mask | mask.t();
  mask.narrow(0, 5, 10).zero_();
  mask.narrow(1, 5, 10).zero_();
  torch::Tensor values = torch::rand({n, n});
  values = (values + values.t()) * mask;
  WeightedCsr csr;
  csr.num_rows = n;
  csr.indptr.push_back(0);
  for (std::int64_t r = 0; r < n; ++r) {
    for (std::int64_t c = 0; c < n; ++c) {
      if (mask[r][c].item<bool>()) {
        csr.indices.push_back(static_cast<std::int32_t>(c));
        csr.values.push_back(values[r][c].item<float>());
      }
    }
    csr.indptr.push_back(static_cast<std::int64_t>(csr.indices.size()));
  }
  CsrTensors a = CsrTensors::from(csr, torch::kCPU);
  torch::Tensor x0 = torch::randn({n, dim});
  EXPECT_TRUE(torch::allclose(spmm(a, x0), torch::mm(values, x0), 1e-4, 1e-5));
  for (std::int64_t layers : {0, 1, 2, 3}) {
    torch::Tensor x = x0.clone().requires_grad_(true);
    torch::Tensor x_ref = x0.clone().requires_grad_(true);
    torch::Tensor y = symmetricLayerMean(a, x, layers);
    torch::Tensor layer = x_ref, sum = x_ref;
    for (std::int64_t l = 0; l < layers; ++l) {
      layer = torch::mm(values, layer);
      sum = sum + layer;
    }
    torch::Tensor y_ref = sum / static_cast<double>(layers + 1);
    EXPECT_TRUE(torch::allclose(y, y_ref, 1e-4, 1e-5)) << layers << " layers";
    torch::Tensor upstream = torch::randn({n, dim});
    (y * upstream).sum().backward();
    (y_ref * upstream).sum().backward();
    EXPECT_TRUE(torch::allclose(x.grad(), x_ref.grad(), 1e-4, 1e-5)) << layers << " layers";
  }
}

TEST(LightGcn, PropagationIsMeanOfLayers) {
  Dataset d = tiny();
  WeightedCsr csr = normalizedInteractionGraph(d);
  LightGcnOptions o;
  o.num_users = 2;
  o.num_items = 2;
  o.dim = 3;
  o.layers = 2;
  LightGcn model(o, CsrTensors::from(csr, torch::kCPU));
  torch::Tensor a = dense(csr);
  torch::Tensor e0 = model->embedding().detach();
  torch::Tensor e1 = torch::mm(a, e0);
  torch::Tensor e2 = torch::mm(a, e1);
  torch::Tensor expected = (e0 + e1 + e2) / 3.0;
  UserItemEmbeddings out = model->propagate();
  EXPECT_TRUE(torch::allclose(out.users, expected.narrow(0, 0, 2), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(out.items, expected.narrow(0, 2, 2), 1e-5, 1e-6));
}

TEST(LightGcn, BprLossMatchesFormula) {
  Dataset d = tiny();
  LightGcnOptions o;
  o.num_users = 2;
  o.num_items = 2;
  o.dim = 4;
  o.layers = 1;
  LightGcn model(o, CsrTensors::from(normalizedInteractionGraph(d), torch::kCPU));
  torch::Tensor users = torch::tensor({0, 1}, torch::kInt64);
  torch::Tensor pos = torch::tensor({0, 1}, torch::kInt64);
  torch::Tensor neg = torch::tensor({1, 0}, torch::kInt64);
  const double l2 = 0.1;
  torch::Tensor loss = model->bprLoss(users, pos, neg, l2);
  UserItemEmbeddings e = model->propagate();
  torch::Tensor emb = model->embedding();
  double expected = 0.0, reg = 0.0;
  for (int b = 0; b < 2; ++b) {
    const int u = users[b].item<int>(), p = pos[b].item<int>(), n = neg[b].item<int>();
    const double ps = (e.users[u] * e.items[p]).sum().item<double>();
    const double ns = (e.users[u] * e.items[n]).sum().item<double>();
    expected += std::log1p(std::exp(ns - ps)) / 2.0;
    reg += (emb[u].pow(2).sum() + emb[2 + p].pow(2).sum() + emb[2 + n].pow(2).sum()).item<double>();
  }
  expected += l2 * 0.5 * reg / 2.0;
  EXPECT_NEAR(loss.item<double>(), expected, 1e-5);
}

}  // namespace
}  // namespace kgrec
