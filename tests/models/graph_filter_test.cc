#include <gtest/gtest.h>

#include <cmath>

#include <torch/types.h>

#include "engine/common/error.h"
#include "models/graph_filter.h"

namespace kgrec {
namespace {

// 5 users x 4 items; user 4 has no training item, item 3 is rated by user 3 only.
Csr handBuiltUserItems() {
  Csr c;
  c.indptr = {0, 2, 5, 7, 9, 9};
  c.indices = {0, 1, 0, 1, 2, 1, 2, 2, 3};
  return c;
}

torch::Tensor denseRatings(const Csr& c, std::int64_t items) {
  torch::Tensor r = torch::zeros({c.numRows(), items});
  for (std::int64_t u = 0; u < c.numRows(); ++u) {
    for (std::int64_t e = c.indptr[u]; e < c.indptr[u + 1]; ++e) r[u][c.indices[e]] = 1.0;
  }
  return r;
}

// D_u^-1/2 R D_i^-1/2 written out densely, zero degrees giving zero rows/columns.
torch::Tensor normalised(const torch::Tensor& r) {
  auto inverseSqrt = [](const torch::Tensor& d) {
    return torch::where(d > 0, d.rsqrt(), torch::zeros_like(d));
  };
  return inverseSqrt(r.sum(1)).unsqueeze(1) * r * inverseSqrt(r.sum(0)).unsqueeze(0);
}

torch::Tensor allUsers(std::int64_t n) { return torch::arange(n, torch::kInt64); }

// The hand-built example, its R~ and P written out densely; the parameter is the item matrix.
class GraphFilterMatrixTest : public ::testing::TestWithParam<const char*> {
 protected:
  const Csr c = handBuiltUserItems();
  const torch::Tensor r = denseRatings(c, 4);
  const torch::Tensor rn = normalised(r);
  const torch::Tensor p = rn.t().mm(rn);
  const torch::Tensor eye = torch::eye(4);
};

GraphFilterOptions linearOptions(const char* item_matrix) {
  GraphFilterOptions o;
  o.item_matrix = item_matrix;
  o.higher_powers = "exact";
  o.block_users = 2;  // several blocks inside one scores() call
  return o;
}

TEST_P(GraphFilterMatrixTest, LinearFilterIsRTimesItemItemMatrix) {
  const GraphFilter filter(c, 4, linearOptions(GetParam()));
  EXPECT_EQ(filter.denseItemMatrix(), std::string(GetParam()) == "dense");
  const torch::Tensor s = filter.scores(allUsers(5));
  ASSERT_EQ(s.sizes(), torch::IntArrayRef({5, 4}));
  EXPECT_TRUE(torch::allclose(s, r.mm(p), 1e-5, 1e-6)) << s << "\n" << r.mm(p);
  // A batch in another order gives the same rows.
  const torch::Tensor some = torch::tensor({3, 0}, torch::kInt64);
  EXPECT_TRUE(torch::allclose(filter.scores(some), r.mm(p).index_select(0, some), 1e-5, 1e-6));
}

TEST_P(GraphFilterMatrixTest, PolynomialsIdealPartAndSharpening) {
  // Power basis, f = 0.5 + 2P - P^2, and sharpening g = 1 - 0.3 P.
  GraphFilterOptions o = linearOptions(GetParam());
  o.coefficients = {0.5, 2.0, -1.0};
  o.sharpen = {1.0, -0.3};
  torch::Tensor f = 0.5 * eye + 2 * p - p.mm(p);
  torch::Tensor g = eye - 0.3 * p;
  EXPECT_TRUE(torch::allclose(GraphFilter(c, 4, o).scores(allUsers(5)), r.mm(f).mm(g), 1e-5, 1e-6));
  // Chebyshev basis in x = 2P - I: T0 = I, T1 = x, T2 = 2x^2 - I, T3 = 4x^3 - 3x.
  o.basis = "chebyshev";
  o.coefficients = {0.2, -0.4, 0.7, 0.3};
  o.sharpen = {1.0};
  const torch::Tensor x = 2 * p - eye;
  f = 0.2 * eye - 0.4 * x + 0.7 * (2 * x.mm(x) - eye) + 0.3 * (4 * x.mm(x).mm(x) - 3 * x);
  EXPECT_TRUE(torch::allclose(GraphFilter(c, 4, o).scores(allUsers(5)), r.mm(f), 1e-4, 1e-5));
  // GF-CF's ideal part: alpha r D_i^-1/2 V V^T D_i^1/2 with V the top right singular vectors.
  o = linearOptions(GetParam());
  o.ideal_weight = 0.3;
  o.rank = 2;
  const auto [u, s, vh] = torch::linalg_svd(rn, false);
  const torch::Tensor v = vh.narrow(0, 0, 2).t();
  const torch::Tensor di = r.sum(0);
  const torch::Tensor ideal = (r * di.rsqrt()).mm(v).mm(v.t()) * di.sqrt();
  EXPECT_TRUE(torch::allclose(GraphFilter(c, 4, o, TruncatedSvd{s.narrow(0, 0, 2), v})
                                  .scores(allUsers(5)),
                              r.mm(p) + 0.3 * ideal, 1e-4, 1e-5));
  // The randomized SVD finds the same subspace (V V^T does not depend on signs).
  const GraphFilter fitted(c, 4, o);
  EXPECT_TRUE(torch::allclose(fitted.scores(allUsers(5)), r.mm(p) + 0.3 * ideal, 1e-3, 1e-4));
}

// With every eigenpair (rank = items), the low-rank higher powers are exact: the same scores
// as applying every power of P, for Chebyshev f, sharpening g and the ideal part together.
TEST_P(GraphFilterMatrixTest, LowRankHigherPowersAtFullRankAreExact) {
  GraphFilterOptions o = linearOptions(GetParam());
  o.basis = "chebyshev";
  o.coefficients = {0.3, 0.5, -0.2};
  o.sharpen = {1.0, -0.5, 0.25};
  o.ideal_weight = 0.2;
  o.rank = 4;
  const auto [u, s, vh] = torch::linalg_svd(rn, false);
  const TruncatedSvd svd{s, vh.t().contiguous()};
  const torch::Tensor x = 2 * p - eye;
  const torch::Tensor f = 0.3 * eye + 0.5 * x - 0.2 * (2 * x.mm(x) - eye);
  const torch::Tensor g = eye - 0.5 * p + 0.25 * p.mm(p);
  const torch::Tensor di = r.sum(0);
  const torch::Tensor ideal = (r * di.rsqrt()).mm(vh.t()).mm(vh) * di.sqrt();
  const torch::Tensor expected = (r.mm(f) + 0.2 * ideal).mm(g);
  const GraphFilter exact(c, 4, o, svd);
  EXPECT_FALSE(exact.lowRankHigherPowers());
  o.higher_powers = "low-rank";
  const GraphFilter low_rank(c, 4, o, svd);
  EXPECT_TRUE(low_rank.lowRankHigherPowers());
  EXPECT_TRUE(torch::allclose(exact.scores(allUsers(5)), expected, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(low_rank.scores(allUsers(5)), expected, 1e-4, 1e-5))
      << low_rank.scores(allUsers(5)) << "\n" << expected;
  // Below full rank it is an approximation: auto takes it with a factored P for power-basis
  // filters only.
  o.rank = 2;
  o.higher_powers = "auto";
  EXPECT_FALSE(GraphFilter(c, 4, o).lowRankHigherPowers());
  o.basis = "power";
  EXPECT_EQ(GraphFilter(c, 4, o).lowRankHigherPowers(), std::string(GetParam()) == "factored");
}

// An item's scores are the filter's response to that item alone: row i of the filter's
// item-item matrix, as for a user whose only item is i (exact and low-rank alike).
TEST_P(GraphFilterMatrixTest, ItemScoresAreTheResponseToOneItem) {
  GraphFilterOptions o = linearOptions(GetParam());
  o.coefficients = {0.0, 1.5, -0.5};
  o.sharpen = {1.0, -0.4};
  o.ideal_weight = 0.3;
  o.rank = 4;
  const auto [u, s, vh] = torch::linalg_svd(rn, false);
  const TruncatedSvd svd{s, vh.t().contiguous()};
  const torch::Tensor di = r.sum(0);
  const torch::Tensor ideal = (eye * di.rsqrt()).mm(vh.t()).mm(vh) * di.sqrt();
  const torch::Tensor expected = (1.5 * p - 0.5 * p.mm(p) + 0.3 * ideal).mm(eye - 0.4 * p);
  const torch::Tensor items = torch::tensor({3, 0, 2}, torch::kInt64);
  for (const char* higher : {"exact", "low-rank"}) {
    o.higher_powers = higher;
    const torch::Tensor got = GraphFilter(c, 4, o, svd).itemScores(items);
    EXPECT_TRUE(torch::allclose(got, expected.index_select(0, items), 1e-4, 1e-5))
        << higher << "\n" << got << "\n" << expected;
  }
  // User 3 has items 2 and 3: the sum of their responses (the filter is linear).
  const torch::Tensor user3 = GraphFilter(c, 4, o, svd).scores(torch::tensor({3}, torch::kInt64));
  EXPECT_TRUE(torch::allclose(user3[0], expected[2] + expected[3], 1e-4, 1e-5));
  EXPECT_THROW(GraphFilter(c, 4, o, svd).itemScores(torch::tensor({4}, torch::kInt64)), Error);
}

// At full rank the spectral factors reproduce every score; below it they keep the ideal
// part and the top eigenpairs' share of the rest.
TEST_P(GraphFilterMatrixTest, SpectralFactorsReproduceTheScoresAtFullRank) {
  GraphFilterOptions o = linearOptions(GetParam());
  o.basis = "chebyshev";
  o.coefficients = {0.3, 0.5, -0.2};
  o.sharpen = {1.0, -0.5};
  o.ideal_weight = 0.2;
  o.rank = 4;
  const auto [u, s, vh] = torch::linalg_svd(rn, false);
  const GraphFilter filter(c, 4, o, TruncatedSvd{s, vh.t().contiguous()});
  const GraphFilter::Factors f = filter.spectralFactors();
  ASSERT_EQ(f.users.sizes(), torch::IntArrayRef({5, 8}));
  ASSERT_EQ(f.items.sizes(), torch::IntArrayRef({4, 8}));
  EXPECT_TRUE(torch::allclose(f.users.mm(f.items.t()), filter.scores(allUsers(5)), 1e-4, 1e-5));
  // Rank 1 without an ideal part: h(l1) r v1 v1^T, with the SVD computed on demand.
  o.basis = "power";
  o.coefficients = {0.0, 2.0, -1.0};
  o.sharpen = {1.0};
  o.ideal_weight = 0.0;
  o.rank = 1;
  o.higher_powers = "exact";
  const GraphFilter::Factors one = GraphFilter(c, 4, o).spectralFactors();
  ASSERT_EQ(one.items.sizes(), torch::IntArrayRef({4, 1}));
  const torch::Tensor v1 = vh[0].unsqueeze(1);
  const double l1 = s[0].item<double>() * s[0].item<double>();
  const torch::Tensor expected = r.mm(v1).mm(v1.t()) * (2 * l1 - l1 * l1);
  EXPECT_TRUE(torch::allclose(one.users.mm(one.items.t()), expected, 1e-3, 1e-4))
      << one.users.mm(one.items.t()) << "\n" << expected;
}

INSTANTIATE_TEST_SUITE_P(ItemMatrix, GraphFilterMatrixTest, ::testing::Values("dense", "factored"));

TEST(GraphFilterTest, RefusesADenseItemMatrixOverTheLimit) {
  GraphFilterOptions o;
  o.item_matrix = "dense";
  o.dense_limit_bytes = 63;  // 4 x 4 floats take 64
  try {
    GraphFilter(handBuiltUserItems(), 4, o);
    FAIL() << "a dense item matrix over the limit was built";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--filter-item-matrix factored"), std::string::npos) << e.what();
  }
  o.item_matrix = "auto";  // falls back to the factored form instead
  EXPECT_FALSE(GraphFilter(handBuiltUserItems(), 4, o).denseItemMatrix());
  o.dense_limit_bytes = 64;
  o.item_matrix = "dense";
  EXPECT_TRUE(GraphFilter(handBuiltUserItems(), 4, o).denseItemMatrix());
}

TEST(GraphFilterTest, RefusesBadOptions) {
  GraphFilterOptions o;
  o.ideal_weight = 0.5;
  o.rank = 5;  // more than min(5 users, 4 items)
  EXPECT_THROW(GraphFilter(handBuiltUserItems(), 4, o), ConfigError);
  o = GraphFilterOptions();
  o.basis = "legendre";
  EXPECT_THROW(GraphFilter(handBuiltUserItems(), 4, o), ConfigError);
  o = GraphFilterOptions();
  o.item_matrix = "sparse";
  EXPECT_THROW(GraphFilter(handBuiltUserItems(), 4, o), ConfigError);
  o = GraphFilterOptions();
  o.higher_powers = "some";
  EXPECT_THROW(GraphFilter(handBuiltUserItems(), 4, o), ConfigError);
}

TEST(GraphFilterTest, PresetsParseAndUnknownNamesAreListed) {
  for (const std::string& name : graphFilterPresetNames()) {
    const GraphFilterOptions o = graphFilterPreset(name);
    EXPECT_FALSE(o.coefficients.empty()) << name;
    EXPECT_EQ(o.svd.rank, o.rank) << name;
  }
  EXPECT_EQ(graphFilterPreset("gf-cf").ideal_weight, 0.3);
  EXPECT_EQ(graphFilterPreset("turbo-cf").ideal_weight, 0.0);
  EXPECT_EQ(graphFilterPreset("chebycf").basis, "chebyshev");
  try {
    graphFilterPreset("gfcf");
    FAIL() << "an unknown preset was accepted";
  } catch (const ConfigError& e) {
    for (const std::string& name : graphFilterPresetNames()) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
}

// The interpolant takes the ideal low-pass values at the Chebyshev nodes.
TEST(GraphFilterTest, ChebyshevLowPassInterpolatesTheStep) {
  const std::int64_t order = 6;
  const double cutoff = 0.4;
  const std::vector<double> c = chebyshevLowPass(order, cutoff);
  ASSERT_EQ(c.size(), static_cast<std::size_t>(order + 1));
  for (std::int64_t j = 0; j <= order; ++j) {
    const double theta = M_PI * (j + 0.5) / (order + 1);
    double value = 0.0;
    for (std::int64_t k = 0; k <= order; ++k) value += c[k] * std::cos(k * theta);
    const double lambda = (std::cos(theta) + 1.0) / 2.0;
    EXPECT_NEAR(value, lambda >= cutoff ? 1.0 : 0.0, 1e-9) << "node " << j;
  }
}

}  // namespace
}  // namespace kgrec
