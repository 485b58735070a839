#pragma once
// The collective steps of per-rank sampling; the sampler itself stays plain C++.

#include <cstdint>
#include <memory>

#include "comm/process_group.h"
#include "partition/partition_book.h"
#include "partition/shard.h"
#include "sampler/neighbor_sampler.h"

namespace kgrec {

// The whole-graph degrees, item interaction counts and training interaction count from the
// shards (rank r holds part r): an all-gather of the owned nodes' degrees, placed by the
// partition book, and all-reduces of the local training interactions. Collective.
GraphStats gatherGraphStats(ProcessGroup& group, const Shard& shard, const PartitionBook& book);

// Neighbours of non-owned nodes drawn by their owners over comm/: per (batch, hop) three
// all-to-all-v collectives (the node ids to each owner; the owners' edge counts per node; the
// edges as (source, relation, inverse rate) rows). Every rank answers the others' requests
// with its own sampler in the same call, so every rank must sample every step in the same
// order (BatchPipeline does: one worker when the source is collective). Give it a process
// group of its own, so that these collectives never interleave with the training step's.
class CommNeighborSource final : public RemoteNeighborSource {
 public:
  CommNeighborSource(std::shared_ptr<ProcessGroup> group, const PartitionBook& book);
  // The sampler that answers for this rank's part; set before the first batch (the sampler
  // takes the source in its constructor, so the two are tied after both exist).
  void setOwner(const NeighborSampler* owner) { owner_ = owner; }

  SampledNeighbors sampleNeighbors(const std::vector<std::int64_t>& nodes, std::uint64_t stream,
                                   std::int64_t hop) const override;
  bool collective() const override { return true; }

  // Bytes this rank sent in its requests and answers so far.
  std::int64_t bytesSent() const { return bytes_sent_; }

 private:
  std::shared_ptr<ProcessGroup> group_;
  const PartitionBook& book_;
  const NeighborSampler* owner_ = nullptr;
  mutable std::int64_t bytes_sent_ = 0;  // only the one sampling thread writes it
};

}  // namespace kgrec
