#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "sampler/bpr_sampler.h"

namespace kgrec {
namespace {

// 3 users, 5 items; user 2 has no training item and must never be drawn.
std::vector<Interaction> trainPairs() { return {{0, 0}, {0, 1}, {0, 2}, {1, 4}}; }

TEST(BprSampler, DrawsRealPositivesAndTrueNegatives) {
  Csr user_items = userItemCsr(trainPairs(), 3);
  BprSampler sampler(user_items, 5, 7);
  EXPECT_EQ(sampler.epochSize(), 4);
  std::set<std::pair<int, int>> positives;
  for (const Interaction& x : trainPairs()) positives.insert({x.user, x.item});
  for (std::int64_t epoch = 0; epoch < 200; ++epoch) {
    BprTriples t = sampler.sampleEpoch(epoch);
    ASSERT_EQ(t.size(), 4);
    for (std::int64_t k = 0; k < t.size(); ++k) {
      EXPECT_NE(t.users[k], 2);
      EXPECT_TRUE(positives.count({t.users[k], t.positives[k]}));
      EXPECT_FALSE(positives.count({t.users[k], t.negatives[k]}));
      EXPECT_GE(t.negatives[k], 0);
      EXPECT_LT(t.negatives[k], 5);
    }
  }
}

TEST(BprSampler, ReproduciblePerSeedAndEpoch) {
  Csr user_items = userItemCsr(trainPairs(), 3);
  BprSampler a(user_items, 5, 7), b(user_items, 5, 7), c(user_items, 5, 8);
  EXPECT_EQ(a.sampleEpoch(3).negatives, b.sampleEpoch(3).negatives);
  EXPECT_EQ(a.sampleEpoch(3).users, b.sampleEpoch(3).users);
  // Over many epochs, another seed or another epoch gives other draws.
  bool seed_differs = false, epoch_differs = false;
  for (std::int64_t e = 0; e < 20; ++e) {
    seed_differs |= a.sampleEpoch(e).negatives != c.sampleEpoch(e).negatives;
    epoch_differs |= a.sampleEpoch(e).negatives != a.sampleEpoch(e + 1).negatives;
  }
  EXPECT_TRUE(seed_differs);
  EXPECT_TRUE(epoch_differs);
}

TEST(BprSampler, UsersDrawnUniformly) {
  // User 0 has 3 items, user 1 one: the reference draws users, not interactions, uniformly.
  Csr user_items = userItemCsr(trainPairs(), 3);
  BprSampler sampler(user_items, 5, 1);
  std::int64_t user0 = 0, total = 0;
  for (std::int64_t e = 0; e < 5000; ++e) {
    BprTriples t = sampler.sampleEpoch(e);
    user0 += std::count(t.users.begin(), t.users.end(), 0);
    total += t.size();
  }
  EXPECT_NEAR(static_cast<double>(user0) / total, 0.5, 0.02);
}

TEST(BprSampler, RefusesUserWithEveryItem) {
  Csr user_items = userItemCsr({{0, 0}, {0, 1}}, 1);
  EXPECT_ANY_THROW(BprSampler(user_items, 2, 1));
}

}  // namespace
}  // namespace kgrec
