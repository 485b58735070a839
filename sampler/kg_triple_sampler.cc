#include "sampler/kg_triple_sampler.h"

#include <algorithm>
#include <tuple>

#include "engine/common/error.h"
#include "engine/common/random.h"

namespace kgrec {
namespace {
// Stream ids of their own, apart from the neighbour sampler's.
constexpr std::uint64_t kTripleStepStream = ~0ULL - 16;
constexpr std::uint64_t kCorruptStream = ~0ULL - 17;
// A tail that is the target of almost every item and entity under one relation would make
// rejection slow; after this many draws the last one is taken.
constexpr int kMaxCorruptDraws = 64;

std::uint64_t tripleHash(std::uint64_t stream, std::int64_t head, std::int64_t relation,
                         std::int64_t tail) {
  return mixSeed(mixSeed(stream, static_cast<std::uint64_t>(head),
                         static_cast<std::uint64_t>(relation)),
                 static_cast<std::uint64_t>(tail));
}
}  // namespace

std::vector<std::int64_t> KgTriples::nodes() const {
  std::vector<std::int64_t> out;
  out.reserve(3 * size());
  for (const auto* part : {&heads, &tails, &corrupt_heads}) {
    out.insert(out.end(), part->begin(), part->end());
  }
  return out;
}

KgTripleSampler::KgTripleSampler(const Shard& shard, std::uint64_t seed)
    : shard_(shard), seed_(seed), in_edges_(ownedInEdgesByGlobalId(shard)) {
  for (std::int64_t v = 0; v < in_edges_.numRows(); ++v) {
    for (std::int64_t e = in_edges_.indptr[v]; e < in_edges_.indptr[v + 1]; ++e) {
      if (in_edges_.relations[e] < kgForwardRelation(0)) continue;
      heads_.push_back(in_edges_.indices[e]);
      relations_.push_back(in_edges_.relations[e]);
      tails_.push_back(shard.global_ids[v]);
      row_of_.push_back(v);
    }
  }
}

bool KgTripleSampler::isHead(std::int64_t candidate, std::int64_t relation,
                             std::int64_t triple) const {
  const std::int64_t row = row_of_[triple];
  const auto begin = in_edges_.indices.begin();
  // The row is sorted by (source, relation): the candidate's edges are one run.
  const auto [from, to] = std::equal_range(begin + in_edges_.indptr[row],
                                           begin + in_edges_.indptr[row + 1],
                                           static_cast<std::int32_t>(candidate));
  for (auto e = from - begin; e < to - begin; ++e) {
    if (in_edges_.relations[e] == relation) return true;
  }
  return false;
}

KgTriples KgTripleSampler::sample(std::int64_t epoch, std::int64_t step,
                                  std::int64_t steps) const {
  KGREC_CHECK(steps > 0 && step >= 0 && step < steps, "KG step {} of {}", step, steps);
  if (cached_epoch_ != epoch || cached_steps_ != steps) {
    const std::uint64_t stream =
        mixSeed(seed_, static_cast<std::uint64_t>(epoch), kTripleStepStream);
    step_triples_.assign(static_cast<std::size_t>(steps), {});
    for (std::int64_t i = 0; i < numOwnedTriples(); ++i) {
      const std::uint64_t hash = tripleHash(stream, heads_[i], relations_[i], tails_[i]);
      const auto s =
          static_cast<std::size_t>(scaleToRange(hash, static_cast<std::uint64_t>(steps)));
      step_triples_[s].push_back(i);
    }
    for (auto& triples : step_triples_) {
      std::sort(triples.begin(), triples.end(), [&](std::int64_t a, std::int64_t b) {
        return std::tie(heads_[a], relations_[a], tails_[a]) <
               std::tie(heads_[b], relations_[b], tails_[b]);
      });
    }
    cached_epoch_ = epoch;
    cached_steps_ = steps;
  }
  const NodeSpace& space = shard_.nodes;
  // Items and entities are the KG's nodes: global ids [num_users, numNodes()).
  const auto kg_nodes = static_cast<std::uint64_t>(space.numNodes() - space.num_users);
  const std::uint64_t corrupt_stream =
      mixSeed(seed_, static_cast<std::uint64_t>(epoch), kCorruptStream);
  KgTriples out;
  for (std::int64_t i : step_triples_[static_cast<std::size_t>(step)]) {
    out.heads.push_back(heads_[i]);
    out.relations.push_back(relations_[i]);
    out.tails.push_back(tails_[i]);
    SplitMix64 rng(tripleHash(corrupt_stream, heads_[i], relations_[i], tails_[i]));
    std::int64_t candidate = 0;
    for (int draw = 0; draw < kMaxCorruptDraws; ++draw) {
      candidate = space.num_users + static_cast<std::int64_t>(rng.below(kg_nodes));
      if (!isHead(candidate, relations_[i], i)) break;
    }
    out.corrupt_heads.push_back(candidate);
  }
  return out;
}

}  // namespace kgrec
