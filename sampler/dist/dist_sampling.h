#pragma once
// The collective steps of per-rank sampling; the sampler itself stays plain C++.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

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
// with its own sampler in the same call, so every rank must sample every step of a lane in the
// same order (BatchPipeline does: one worker per lane). Each lane is a process group of its
// own, so that lanes never interleave with each other or with the training step's collectives.
class CommNeighborSource final : public RemoteNeighborSource {
 public:
  // One lane per group; every rank must give the same number.
  CommNeighborSource(std::vector<std::shared_ptr<ProcessGroup>> lanes, const PartitionBook& book);
  // The sampler that answers for this rank's part; set before the first batch (the sampler
  // takes the source in its constructor, so the two are tied after both exist).
  void setOwner(const NeighborSampler* owner) { owner_ = owner; }

  SampledNeighbors sampleNeighbors(const std::vector<std::int64_t>& nodes, std::uint64_t stream,
                                   std::int64_t hop, int lane) const override;
  bool collective() const override { return true; }
  int lanes() const override { return static_cast<int>(lanes_.size()); }

  // Bytes this rank sent in its requests and answers so far, over all lanes.
  std::int64_t bytesSent() const { return bytes_sent_.load(); }

 private:
  std::vector<std::shared_ptr<ProcessGroup>> lanes_;
  const PartitionBook& book_;
  const NeighborSampler* owner_ = nullptr;
  mutable std::atomic<std::int64_t> bytes_sent_{0};
};

}  // namespace kgrec
