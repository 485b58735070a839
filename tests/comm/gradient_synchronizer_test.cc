// The data-parallel property: P ranks, each with 1/P of the batch and synchronised gradients,
// follow the same parameter trajectory as one process with the whole batch, and the replicas
// stay bit-identical.

#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include <torch/autograd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include "comm/gradient_synchronizer.h"
#include "tests/comm/comm_testing.h"

namespace kgrec {
namespace {

constexpr std::int64_t kRowsPerRank = 8;

// A two-layer perceptron 5 -> 8 -> 3 as bare leaf tensors, initialised from `seed`.
std::vector<torch::Tensor> makeParams(std::uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> params = {torch::randn({5, 8}), torch::randn({8}),
                                       torch::randn({8, 3}), torch::randn({3})};
  for (torch::Tensor& p : params) p.requires_grad_(true);
  return params;
}

torch::Tensor loss(const std::vector<torch::Tensor>& p, const torch::Tensor& x,
                   const torch::Tensor& y) {
  torch::Tensor hidden = torch::tanh(torch::matmul(x, p[0]) + p[1]);
  return (torch::matmul(hidden, p[2]) + p[3] - y).pow(2).mean();
}

void sgdStep(std::vector<torch::Tensor>& params, double lr) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& p : params) {
    p.sub_(p.grad() * lr);
    p.mutable_grad().zero_();
  }
}

// Every rank's copy of `params`, flattened: [ranks, total elements].
torch::Tensor gatherReplicas(ProcessGroup& group, const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> flat;
  for (const torch::Tensor& p : params) flat.push_back(p.detach().reshape({-1}));
  return group.allGather(torch::cat(flat))->result().tensor;
}

TEST(AssignBuckets, ReverseOrderByteCapAndOneDtypePerBucket) {
  // Parameters of 10, 20, 30, 40 floats and one of 5 doubles; cap 100 bytes (25 floats).
  std::vector<torch::Tensor> params = {torch::zeros({10}), torch::zeros({20}),
                                       torch::zeros({5}, torch::kDouble), torch::zeros({30}),
                                       torch::zeros({40})};
  // Reverse: 40 (160 B, closes) | 30 (120 B, closes) | doubles: 5 (40 B, stays open) |
  // 20 + 10 (120 B).
  std::vector<std::vector<std::size_t>> expected = {{4}, {3}, {2}, {1, 0}};
  EXPECT_EQ(assignBuckets(params, 100), expected);
  EXPECT_EQ(assignBuckets(params, 1 << 20), (std::vector<std::vector<std::size_t>>{{4, 3, 1, 0}, {2}}));
  EXPECT_TRUE(assignBuckets({}, 100).empty());
}

TEST(GradientSynchronizer, ReplicasStartFromRootsParameters) {
  auto group = testing::worldGroup();
  std::vector<torch::Tensor> params = makeParams(1000 + group->rank());
  GradientSynchronizer sync(group, params, {});
  torch::Tensor replicas = gatherReplicas(*group, params);
  std::vector<torch::Tensor> root = makeParams(1000);
  std::vector<torch::Tensor> flat;
  for (const torch::Tensor& p : root) flat.push_back(p.detach().reshape({-1}));
  for (int r = 0; r < group->size(); ++r) {
    EXPECT_TRUE(torch::equal(replicas[r], torch::cat(flat))) << "rank " << r;
  }
}

class SynchronizedTraining
    : public ::testing::TestWithParam<std::tuple<std::int64_t, bool>> {};

TEST_P(SynchronizedTraining, MatchesOneProcessWithTheWholeBatch) {
  auto group = testing::worldGroup();
  const int n = group->size();
  GradientSynchronizerOptions options;
  std::tie(options.bucket_bytes, options.overlap) = GetParam();
  std::vector<torch::Tensor> params = makeParams(1000 + group->rank());
  GradientSynchronizer sync(group, params, options);
  std::vector<torch::Tensor> reference = makeParams(1000);  // rank 0's initial parameters

  for (int step = 0; step < 40; ++step) {
    // The global batch of this step, the same on every rank; this rank trains on its share.
    torch::manual_seed(step);
    torch::Tensor x = torch::randn({n * kRowsPerRank, 5});
    torch::Tensor y = torch::randn({n * kRowsPerRank, 3});
    torch::Tensor mine = torch::arange(group->rank() * kRowsPerRank, (group->rank() + 1) * kRowsPerRank);
    loss(params, x.index_select(0, mine), y.index_select(0, mine)).backward();
    sync.finalize();
    sgdStep(params, 0.05);

    loss(reference, x, y).backward();
    sgdStep(reference, 0.05);
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::allclose(params[i], reference[i], 1e-4, 1e-5)) << "parameter " << i;
  }
  torch::Tensor replicas = gatherReplicas(*group, params);
  for (int r = 1; r < n; ++r) {
    EXPECT_TRUE(torch::equal(replicas[r], replicas[0])) << "rank " << r << " differs from rank 0";
  }
}

INSTANTIATE_TEST_SUITE_P(BucketSizes, SynchronizedTraining,
                         ::testing::Values(std::make_tuple(std::int64_t{64}, true),
                                           std::make_tuple(std::int64_t{1} << 20, true),
                                           std::make_tuple(std::int64_t{64}, false)));

TEST(GradientSynchronizer, ParameterUnusedOnSomeRanksGetsTheMeanGradient) {
  auto group = testing::worldGroup();
  std::vector<torch::Tensor> model = makeParams(7);
  torch::Tensor extra = torch::zeros({4}, torch::requires_grad());
  // Mid-list, so that its bucket holds back the launch of later ones until finalize().
  std::vector<torch::Tensor> params = {model[0], model[1], extra, model[2], model[3]};
  GradientSynchronizerOptions options;
  options.bucket_bytes = 16;
  GradientSynchronizer sync(group, params, options);
  for (int step = 0; step < 3; ++step) {
    torch::Tensor x = torch::ones({2, 5});
    torch::Tensor y = torch::zeros({2, 3});
    torch::Tensor l = loss(model, x, y);
    if (group->rank() == 1) l = l + extra.sum();  // only rank 1 uses it: gradient 1 there
    l.backward();
    sync.finalize();
    ASSERT_TRUE(extra.grad().defined());
    EXPECT_TRUE(torch::allclose(extra.grad(), torch::full({4}, 1.0 / group->size())));
    sgdStep(params, 0.1);
  }
  torch::Tensor replicas = gatherReplicas(*group, params);
  for (int r = 1; r < group->size(); ++r) EXPECT_TRUE(torch::equal(replicas[r], replicas[0]));
}

}  // namespace
}  // namespace kgrec
