#include <gtest/gtest.h>

#include <torch/types.h>

#include "engine/common/error.h"
#include "models/randomized_svd.h"

namespace kgrec {
namespace {

LinearOperator denseOperator(const torch::Tensor& a) {
  return {a.size(0), a.size(1), [a](const torch::Tensor& x) { return a.mm(x); },
          [a](const torch::Tensor& y) { return a.t().mm(y); }};
}

// A 120 x 80 matrix with a decaying spectrum, as interaction matrices have.
torch::Tensor decayingMatrix() {
  torch::manual_seed(11);
  const torch::Tensor u = std::get<0>(torch::linalg_qr(torch::randn({120, 80})));
  const torch::Tensor v = std::get<0>(torch::linalg_qr(torch::randn({80, 80})));
  const torch::Tensor s = torch::pow(torch::full({80}, 0.8), torch::arange(80, torch::kFloat32)) * 10;
  return u.mm(torch::diag(s)).mm(v.t());
}

TEST(RandomizedSvdTest, MatchesLinalgSvd) {
  const torch::Tensor a = decayingMatrix();
  RandomizedSvdOptions o;
  o.rank = 10;
  o.oversampling = 10;
  o.power_iterations = 2;
  const TruncatedSvd svd = randomizedSvd(denseOperator(a), o);
  const auto [u, s, vh] = torch::linalg_svd(a, false);
  ASSERT_EQ(svd.singular_values.size(0), 10);
  EXPECT_TRUE(torch::allclose(svd.singular_values, s.narrow(0, 0, 10), 1e-3, 1e-4))
      << svd.singular_values << "\n" << s.narrow(0, 0, 10);
  // Orthonormal, and each vector the exact one up to sign.
  const torch::Tensor v = svd.right_vectors;
  EXPECT_TRUE(torch::allclose(v.t().mm(v), torch::eye(10), 1e-4, 1e-4));
  const torch::Tensor cosines = v.t().mm(vh.narrow(0, 0, 10).t()).diagonal().abs();
  EXPECT_TRUE(torch::allclose(cosines, torch::ones({10}), 1e-3, 1e-3)) << cosines;
}

TEST(RandomizedSvdTest, SameSeedSameResultAndRankRefused) {
  const torch::Tensor a = decayingMatrix();
  RandomizedSvdOptions o;
  o.rank = 5;
  EXPECT_TRUE(torch::equal(randomizedSvd(denseOperator(a), o).right_vectors,
                           randomizedSvd(denseOperator(a), o).right_vectors));
  o.rank = 81;
  EXPECT_THROW(randomizedSvd(denseOperator(a), o), ConfigError);
  o.rank = 0;
  EXPECT_THROW(randomizedSvd(denseOperator(a), o), ConfigError);
}

}  // namespace
}  // namespace kgrec
