#pragma once
// The collective steps of per-rank sampling; the sampler itself stays plain C++.

#include <cstdint>

#include "comm/process_group.h"
#include "partition/partition_book.h"
#include "partition/shard.h"
#include "sampler/neighbor_sampler.h"

namespace kgrec {

// All-gathers every rank's local step count and returns agreedStepsPerEpoch of them, the
// same on every rank. Collective: every rank calls it once per epoch (or once, when the
// counts do not change), in the same order as its other collectives.
std::int64_t agreeOnStepsPerEpoch(ProcessGroup& group, std::int64_t local_steps);

// The whole-graph degrees and item interaction counts from the shards (rank r holds part r):
// an all-gather of the owned nodes' degrees, placed by the partition book, and an all-reduce
// of the local training interactions per item. Collective.
GraphStats gatherGraphStats(ProcessGroup& group, const Shard& shard, const PartitionBook& book);

}  // namespace kgrec
