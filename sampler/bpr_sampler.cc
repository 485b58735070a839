#include "sampler/bpr_sampler.h"

#include <algorithm>

#include "engine/common/error.h"
#include "engine/common/random.h"

namespace kgrec {

BprSampler::BprSampler(const Csr& user_items, std::int64_t num_items, std::uint64_t seed)
    : user_items_(user_items), num_items_(num_items), seed_(seed) {
  for (std::int64_t u = 0; u < user_items.numRows(); ++u) {
    if (user_items.degree(u) > 0) active_users_.push_back(static_cast<std::int32_t>(u));
  }
  KGREC_CHECK(!active_users_.empty(), "no user has a training interaction");
  for (std::int64_t u : active_users_) {
    KGREC_CHECK(user_items.degree(u) < num_items,
                "user {} interacted with every item: no negative can be drawn", u);
  }
}

BprTriples BprSampler::sampleEpoch(std::int64_t epoch) const {
  SplitMix64 rng(mixSeed(seed_, static_cast<std::uint64_t>(epoch)));
  const std::int64_t n = epochSize();
  BprTriples t;
  t.users.resize(n);
  t.positives.resize(n);
  t.negatives.resize(n);
  for (std::int64_t k = 0; k < n; ++k) {
    const std::int32_t user = active_users_[rng.below(active_users_.size())];
    const auto first = user_items_.indices.begin() + user_items_.indptr[user];
    const auto last = user_items_.indices.begin() + user_items_.indptr[user + 1];
    const std::int32_t positive = first[rng.below(static_cast<std::uint64_t>(last - first))];
    std::int32_t negative;
    do {
      negative = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(num_items_)));
    } while (std::binary_search(first, last, negative));
    t.users[k] = user;
    t.positives[k] = positive;
    t.negatives[k] = negative;
  }
  return t;
}

}  // namespace kgrec
