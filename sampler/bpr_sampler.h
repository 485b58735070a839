#pragma once
// Seed triples (user, positive item, negative item) for BPR training.
//
// The default draw is the one of the LightGCN reference code, so that kgrec's curve can be
// compared with it epoch for epoch: an epoch holds as many triples as there are training
// interactions; each picks a user uniformly among users with training items, one of that
// user's items uniformly, and a negative uniformly among the items the user has not
// interacted with in training.

#include <cstdint>
#include <vector>

#include "engine/graph/dataset.h"

namespace kgrec {

struct BprTriples {
  std::vector<std::int32_t> users;      // local user index
  std::vector<std::int32_t> positives;  // local item index
  std::vector<std::int32_t> negatives;  // local item index
  std::int64_t size() const { return static_cast<std::int64_t>(users.size()); }
};

class BprSampler {
 public:
  // `user_items`: each user's training items, sorted (userItemCsr of the train split).
  BprSampler(const Csr& user_items, std::int64_t num_items, std::uint64_t seed);

  // The triples of one epoch; the same (seed, epoch) always gives the same triples.
  BprTriples sampleEpoch(std::int64_t epoch) const;
  std::int64_t epochSize() const { return user_items_.numEdges(); }

 private:
  const Csr& user_items_;
  std::int64_t num_items_;
  std::uint64_t seed_;
  std::vector<std::int32_t> active_users_;  // users with at least one training item
};

}  // namespace kgrec
