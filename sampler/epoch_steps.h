#pragma once
// The equal-steps rule: every rank runs the same number of batches per epoch, or a rank that
// finished early would leave the others waiting in their next gradient all-reduce forever.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/common/error.h"

namespace kgrec {

// The global minimum of the ranks' local step counts (each rank gathers the counts and calls
// this with the same vector, so all agree). Minimum rather than padding: a padded rank would
// repeat seeds (over-weighting them in the gradient) or run empty steps; the minimum only
// leaves out each epoch the tail of the larger ranks' shuffled seeds, a different tail every
// epoch, and the partitioner balances training interactions so that the tail is short.
inline std::int64_t agreedStepsPerEpoch(const std::vector<std::int64_t>& steps_of_every_rank) {
  KGREC_CHECK(!steps_of_every_rank.empty(), "no rank's step count given");
  for (std::int64_t steps : steps_of_every_rank) {
    KGREC_CHECK(steps >= 0, "negative step count {}", steps);
  }
  return *std::min_element(steps_of_every_rank.begin(), steps_of_every_rank.end());
}

}  // namespace kgrec
