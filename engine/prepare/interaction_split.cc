// Splitting pooled interactions without a test file: seeded random per user, temporal per
// user, or one global time cut.

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/common/error.h"
#include "engine/common/random.h"
#include "engine/prepare/import_internal.h"

namespace kgrec::import_internal {

namespace {

// A distinct (user, item) pair of the pool: where it occurs first in time (ties: in the
// files) and the split it goes to.
struct Pair {
  std::int32_t user, item;
  std::int64_t time;   // earliest time of the pair (0 without times)
  std::size_t first;   // index in the pool of that earliest occurrence
  Split split = Split::kTrain;
};

bool earlier(const Pair& a, const Pair& b) {
  return a.time != b.time ? a.time < b.time : a.first < b.first;
}

// Distinct pairs sorted by (user, item), and for each pool entry the index of its pair.
std::vector<Pair> distinctPairs(const InteractionPool& pool, std::vector<std::size_t>* pair_of) {
  std::vector<std::size_t> order(pool.pairs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto time = [&](std::size_t k) { return pool.timed ? pool.times[k] : std::int64_t{0}; };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const Interaction &x = pool.pairs[a], &y = pool.pairs[b];
    return x == y ? time(a) < time(b) : x < y;
  });
  std::vector<Pair> pairs;
  pair_of->assign(pool.pairs.size(), 0);
  for (std::size_t k : order) {
    const Interaction& x = pool.pairs[k];
    if (pairs.empty() || pairs.back().user != x.user || pairs.back().item != x.item) {
      pairs.push_back({x.user, x.item, time(k), k});
    }
    (*pair_of)[k] = pairs.size() - 1;
  }
  return pairs;
}

// How many of a user's n distinct items go to test and to valid: test at least 1 and valid
// at least 1 when asked for, train keeping at least 1; a user with one item keeps it in train.
std::pair<std::int64_t, std::int64_t> userShares(std::int64_t n, const ImportOptions& o) {
  if (n < 2) return {0, 0};
  const std::int64_t n_test = std::clamp<std::int64_t>(std::llround(o.test_fraction * n), 1, n - 1);
  const std::int64_t room = n - 1 - n_test;
  const std::int64_t n_valid =
      o.valid_fraction > 0 ? std::min(std::max<std::int64_t>(std::llround(o.valid_fraction * n), 1), room) : 0;
  return {n_test, n_valid};
}

// Each user's distinct items (in item order) are shuffled by its own stream (seed mixed with
// the user index), so one user's split does not depend on the others': the first n_test drawn
// go to test, the next n_valid to valid.
void splitRandom(std::vector<Pair>* pairs, const ImportOptions& o) {
  for (std::size_t lo = 0, hi = 0; lo < pairs->size(); lo = hi) {
    for (hi = lo; hi < pairs->size() && (*pairs)[hi].user == (*pairs)[lo].user; ++hi) {
    }
    const auto n = static_cast<std::int64_t>(hi - lo);
    const auto [n_test, n_valid] = userShares(n, o);
    std::vector<std::int64_t> order(n);
    std::iota(order.begin(), order.end(), std::int64_t{0});
    SplitMix64 rng(mixSeed(o.seed, static_cast<std::uint64_t>((*pairs)[lo].user)));
    for (std::int64_t k = 0; k < n_test + n_valid; ++k) {  // partial Fisher-Yates
      std::swap(order[k], order[k + static_cast<std::int64_t>(rng.below(n - k))]);
      (*pairs)[lo + order[k]].split = k < n_test ? Split::kTest : Split::kValid;
    }
  }
}

// Each user's items in time order: the last n_test to test, the n_valid before them to valid.
void splitTemporalUser(std::vector<Pair>* pairs, const ImportOptions& o) {
  std::vector<Pair*> items;
  for (std::size_t lo = 0, hi = 0; lo < pairs->size(); lo = hi) {
    items.clear();
    for (hi = lo; hi < pairs->size() && (*pairs)[hi].user == (*pairs)[lo].user; ++hi) {
      items.push_back(&(*pairs)[hi]);
    }
    std::sort(items.begin(), items.end(), [](const Pair* a, const Pair* b) { return earlier(*a, *b); });
    const auto n = static_cast<std::int64_t>(items.size());
    const auto [n_test, n_valid] = userShares(n, o);
    for (std::int64_t k = n - n_test - n_valid; k < n; ++k) {
      items[k]->split = k >= n - n_test ? Split::kTest : Split::kValid;
    }
  }
}

// One time cut for all: the pairs from the time of the round(test_fraction * N)-th latest pair
// on go to test, those from the time of the round((test + valid) * N)-th latest on to valid.
// Pairs of equal time stay together, in the later split. Returns the two cut times.
std::pair<std::int64_t, std::int64_t> splitTemporalGlobal(std::vector<Pair>* pairs,
                                                          const ImportOptions& o) {
  const auto n = static_cast<std::int64_t>(pairs->size());
  std::vector<Pair*> by_time(pairs->size());
  for (std::size_t k = 0; k < pairs->size(); ++k) by_time[k] = &(*pairs)[k];
  std::sort(by_time.begin(), by_time.end(), [](const Pair* a, const Pair* b) { return earlier(*a, *b); });
  const std::int64_t n_test = std::llround(o.test_fraction * n);
  const std::int64_t n_eval = std::min<std::int64_t>(n, n_test + std::llround(o.valid_fraction * n));
  const bool any_test = n_test > 0, any_valid = n_eval > n_test;
  const std::int64_t test_from = any_test ? by_time[n - n_test]->time : 0;
  const std::int64_t valid_from = any_valid ? by_time[n - n_eval]->time : 0;
  for (Pair& p : *pairs) {
    p.split = any_test && p.time >= test_from     ? Split::kTest
              : any_valid && p.time >= valid_from ? Split::kValid
                                                  : Split::kTrain;
  }
  return {test_from, valid_from};
}

}  // namespace

std::string splitInteractions(InteractionPool pool, const ImportOptions& o,
                              DatasetBuilder* builder) {
  if (o.split != SplitMethod::kRandom && !pool.timed) {
    throw ConfigError(fmt::format("--split {} orders interactions by time, but {} has no "
                                  "timestamps; use --split random",
                                  splitMethodName(o.split), pool.source));
  }
  std::vector<std::size_t> pair_of;
  std::vector<Pair> pairs = distinctPairs(pool, &pair_of);
  std::string description;
  switch (o.split) {
    case SplitMethod::kRandom:
      splitRandom(&pairs, o);
      description = fmt::format("random per user, test fraction {}, seed {}", o.test_fraction, o.seed);
      break;
    case SplitMethod::kTemporalUser:
      splitTemporalUser(&pairs, o);
      description = fmt::format("temporal per user, test fraction {}", o.test_fraction);
      break;
    case SplitMethod::kTemporalGlobal: {
      const auto [test_from, valid_from] = splitTemporalGlobal(&pairs, o);
      description = fmt::format("temporal global, test fraction {}: test from time {}",
                                o.test_fraction, test_from);
      if (o.valid_fraction > 0) description += fmt::format(", valid from time {}", valid_from);
      break;
    }
  }
  if (o.valid_fraction > 0) description += fmt::format(", valid fraction {}", o.valid_fraction);
  // Every occurrence goes to its pair's split, where the builder merges repeats (earliest time).
  for (std::size_t k = 0; k < pool.pairs.size(); ++k) pool.addTo(k, pairs[pair_of[k]].split, builder);
  return description;
}

}  // namespace kgrec::import_internal
