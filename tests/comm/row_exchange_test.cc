// A 37-row table sharded over the ranks, row g = [10 g, 10 g + 1, 10 g + 2]. Every rank draws
// its requests from a seed of its own, so every rank can also redraw everyone's requests and
// compute the expected gradient sums by itself.

#include <gtest/gtest.h>

#include <vector>

#include <torch/types.h>

#include "comm/row_exchange.h"
#include "engine/common/error.h"
#include "tests/comm/comm_testing.h"

namespace kgrec {
namespace {

constexpr std::int64_t kRows = 37;
constexpr std::int64_t kWidth = 3;

torch::Tensor globalRows(const torch::Tensor& ids) {
  return (ids.unsqueeze(1) * 10 + torch::arange(kWidth, torch::kLong)).to(torch::kFloat);
}

// Rank r asks for 6 r + 5 rows with repeats; the last rank asks for none.
torch::Tensor requestsOf(int rank, int size) {
  if (rank == size - 1) return torch::empty({0}, torch::kLong);
  torch::manual_seed(100 + rank);
  return torch::randint(0, kRows, {6 * rank + 5}, torch::kLong);
}

// Round-robin ownership: rows of one owner are not contiguous in id order.
class ModuloOwnership final : public RowOwnership {
 public:
  explicit ModuloOwnership(int parts) : parts_(parts) {}
  int owner(std::int64_t global) const override { return static_cast<int>(global % parts_); }
  std::int64_t localRow(std::int64_t global) const override { return global / parts_; }

 private:
  int parts_;
};

// This rank's shard of the table under `ownership`: the global ids it owns, by local row.
torch::Tensor ownedIds(const RowOwnership& ownership, int rank) {
  std::vector<std::int64_t> ids;
  for (std::int64_t g = 0; g < kRows; ++g) {
    if (ownership.owner(g) == rank) ids.push_back(g);
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(ownership.localRow(ids[i]), static_cast<std::int64_t>(i));
  }
  return torch::tensor(ids, torch::kLong);
}

void checkFetchAndPush(const std::shared_ptr<const RowOwnership>& ownership) {
  auto group = testing::worldGroup();
  const int me = group->rank();
  RowExchange exchange(group, ownership);
  torch::Tensor owned = ownedIds(*ownership, me);
  torch::Tensor local_table = globalRows(owned);

  torch::Tensor ids = requestsOf(me, group->size());
  RowRequest request = exchange.plan(ids);
  torch::Tensor rows = exchange.fetch(request, local_table);
  EXPECT_TRUE(torch::equal(rows, globalRows(ids)));

  // Rank r pushes gradient r + 1 for each row it asked for, once per repeat.
  torch::Tensor local_grad = torch::zeros_like(local_table);
  exchange.pushGradients(request, torch::full({ids.size(0), kWidth}, me + 1.0), local_grad);
  torch::Tensor expected = torch::zeros({kRows}, torch::kFloat);
  for (int r = 0; r < group->size(); ++r) {
    expected.index_add_(0, requestsOf(r, group->size()),
                        torch::full({requestsOf(r, group->size()).size(0)}, r + 1.0));
  }
  EXPECT_TRUE(torch::equal(local_grad, expected.index_select(0, owned).unsqueeze(1).expand({-1, kWidth})));
}

TEST(BlockOwnership, UnevenBlocks) {
  BlockOwnership ten(10, 4);  // blocks of 3
  EXPECT_EQ(ten.owner(9), 3);
  EXPECT_EQ(ten.localRow(7), 1);
  EXPECT_EQ((std::vector<std::int64_t>{ten.localRows(0), ten.localRows(1), ten.localRows(2),
                                       ten.localRows(3)}),
            (std::vector<std::int64_t>{3, 3, 3, 1}));
  BlockOwnership two(2, 4);  // more parts than rows
  EXPECT_EQ((std::vector<std::int64_t>{two.localRows(0), two.localRows(1), two.localRows(2)}),
            (std::vector<std::int64_t>{1, 1, 0}));
  EXPECT_THROW(ten.owner(10), Error);
}

TEST(RowExchange, BlockOwnershipReturnsOwnersRowsAndSumsGradients) {
  checkFetchAndPush(std::make_shared<BlockOwnership>(kRows, testing::worldGroup()->size()));
}

TEST(RowExchange, ModuloOwnershipReturnsOwnersRowsAndSumsGradients) {
  checkFetchAndPush(std::make_shared<ModuloOwnership>(testing::worldGroup()->size()));
}

TEST(RowExchange, RepeatedIdsTravelOnce) {
  auto group = testing::worldGroup();
  RowExchange exchange(group, std::make_shared<BlockOwnership>(kRows, group->size()));
  RowRequest request = exchange.plan(torch::tensor({5, 5, 36, 5, 36}, torch::kLong));
  std::int64_t sent = 0;
  for (std::int64_t c : request.send_counts) sent += c;
  EXPECT_EQ(sent, 2);
  EXPECT_EQ(request.inverse.size(0), 5);
}

}  // namespace
}  // namespace kgrec
