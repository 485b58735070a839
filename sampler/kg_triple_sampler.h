#pragma once
// Knowledge-graph triples for a TransR-style KG loss (KGAT), drawn per step like the BPR
// seeds: every KG edge (head -r-> tail, forward and reverse relations alike) belongs to the
// part that owns its tail, which holds the tail's whole in-edge row. Each epoch, a triple goes
// to the step its hash (seed, epoch, head, relation, tail) falls in, so the global set of
// triples of a step does not depend on the number of parts. Each triple gets one corrupted
// head: a uniform item or entity that is not a head of (relation, tail), drawn from a stream
// of the triple alone. Corrupting the head rather than the tail lets the owner of the tail
// check the draw against the edges it holds; with every relation's reverse in the graph, the
// corrupted heads of (t, r', h) are the corrupted tails of (h, r, t).

#include <cstdint>
#include <vector>

#include "partition/shard.h"

namespace kgrec {

// A step's triples as global ids (relations are the graph's relation ids), sorted by
// (head, relation, tail); corrupt_heads[i] goes with triple i.
struct KgTriples {
  std::vector<std::int64_t> heads, relations, tails, corrupt_heads;
  std::size_t size() const { return heads.size(); }
  // The triples' nodes whose rows the loss needs: heads, then tails, then corrupted heads.
  std::vector<std::int64_t> nodes() const;
};

class KgTripleSampler {
 public:
  // The shard must outlive the sampler.
  KgTripleSampler(const Shard& shard, std::uint64_t seed);

  // KG edges whose tail this part owns.
  std::int64_t numOwnedTriples() const { return static_cast<std::int64_t>(heads_.size()); }

  // The owned triples of step `step` of `epoch` when an epoch has `steps` steps. Not
  // thread-safe (one epoch's assignment is cached).
  KgTriples sample(std::int64_t epoch, std::int64_t step, std::int64_t steps) const;

 private:
  bool isHead(std::int64_t candidate, std::int64_t relation, std::int64_t triple) const;

  const Shard& shard_;
  std::uint64_t seed_;
  // The owned nodes' in-edges by global source, each row sorted by (source, relation): the
  // heads of a tail's triples, searched when a corrupted head is drawn.
  Csr in_edges_;
  // Owned triples in in_edges_ order; triple i's tail row is row_of_[i].
  std::vector<std::int64_t> heads_, relations_, tails_, row_of_;

  mutable std::int64_t cached_epoch_ = -1, cached_steps_ = -1;
  mutable std::vector<std::vector<std::int64_t>> step_triples_;  // indices, by step
};

}  // namespace kgrec
