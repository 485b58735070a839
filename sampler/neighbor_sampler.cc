#include "sampler/neighbor_sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>
#include <unordered_map>

#include "engine/common/error.h"
#include "engine/common/random.h"

namespace kgrec {
namespace {

// Stream ids under mixSeed(seed, epoch, ·), where steps (>= 0, < 2^63) are the others.
constexpr std::uint64_t kShuffleStream = ~0ULL;
constexpr std::uint64_t kNegativeStream = ~0ULL - 1;

void checkFanout(std::int64_t fanout, const std::string& what) {
  if (fanout < 1 && fanout != -1) {
    throw ConfigError(fmt::format("{} is {}: a fanout is a positive count, or -1 for all "
                                  "neighbours", what, fanout));
  }
}

// Offsets in [0, count) of the neighbours to keep. Without replacement: Floyd's algorithm, a
// uniform `fanout`-subset in O(fanout^2) (fanouts are small, degrees can be huge), sorted so
// that the kept edges stay in CSR order.
void drawOffsets(std::int64_t count, std::int64_t fanout, bool replace, SplitMix64& rng,
                 std::vector<std::int64_t>* out) {
  out->clear();
  if (count == 0) return;
  if (fanout < 0 || (!replace && count <= fanout)) {
    out->resize(count);
    std::iota(out->begin(), out->end(), 0);
    return;
  }
  if (replace) {
    for (std::int64_t k = 0; k < fanout; ++k) {
      out->push_back(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(count))));
    }
    return;
  }
  for (std::int64_t j = count - fanout; j < count; ++j) {
    const auto t = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(j + 1)));
    out->push_back(std::find(out->begin(), out->end(), t) == out->end() ? t : j);
  }
  std::sort(out->begin(), out->end());
}

}  // namespace

void validateSamplerOptions(const SamplerOptions& options, std::int64_t num_relations) {
  if (options.fanouts.empty()) throw ConfigError("fanouts is empty: give one fanout per layer");
  for (std::size_t h = 0; h < options.fanouts.size(); ++h) {
    checkFanout(options.fanouts[h], fmt::format("fanout of hop {}", h + 1));
  }
  std::vector<bool> grouped(static_cast<std::size_t>(std::max<std::int64_t>(num_relations, 0)));
  for (const SamplerOptions::RelationGroup& group : options.relation_fanouts) {
    if (group.relations.empty()) throw ConfigError("a relation fanout group has no relation");
    for (std::int32_t relation : group.relations) {
      if (relation < 0 || relation >= num_relations) {
        throw ConfigError(fmt::format("relation fanout for relation {}: the graph has relation "
                                      "ids 0..{}", relation, num_relations - 1));
      }
      if (grouped[relation]) {
        throw ConfigError(fmt::format("relation {} has two fanout budgets: give it one",
                                      relation));
      }
      grouped[relation] = true;
    }
    if (group.fanouts.size() != options.fanouts.size()) {
      throw ConfigError(fmt::format("relation {} has {} fanouts for {} layers",
                                    group.relations.front(), group.fanouts.size(),
                                    options.fanouts.size()));
    }
    for (std::size_t h = 0; h < group.fanouts.size(); ++h) {
      checkFanout(group.fanouts[h], fmt::format("fanout of relation {} at hop {}",
                                                group.relations.front(), h + 1));
    }
  }
  if (options.negatives < 1) {
    throw ConfigError(fmt::format("negatives is {}: at least 1 per positive", options.negatives));
  }
  if (options.batch_size < 1) {
    throw ConfigError(fmt::format("batch size is {}: at least 1", options.batch_size));
  }
}

GraphStats graphStats(const Dataset& dataset) {
  GraphStats stats;
  stats.degree.resize(dataset.graph.numRows());
  for (std::int64_t v = 0; v < dataset.graph.numRows(); ++v) {
    stats.degree[v] = static_cast<std::int32_t>(dataset.graph.degree(v));
  }
  stats.item_interactions = itemDegrees(dataset.train, dataset.nodes.num_items);
  stats.num_train = static_cast<std::int64_t>(dataset.train.size());
  return stats;
}

NeighborSampler::NeighborSampler(const Shard& shard, const PartitionBook& book,
                                 const GraphStats& stats, SamplerOptions options,
                                 const RemoteNeighborSource* remote)
    : shard_(shard), book_(book), stats_(stats), options_(std::move(options)), remote_(remote) {
  validateSamplerOptions(options_, static_cast<std::int64_t>(shard.relation_names.size()));
  group_of_relation_.assign(shard.relation_names.size(), -1);
  for (std::size_t g = 0; g < options_.relation_fanouts.size(); ++g) {
    for (std::int32_t r : options_.relation_fanouts[g].relations) {
      group_of_relation_[r] = static_cast<std::int32_t>(g);
    }
  }
  const NodeSpace& nodes = shard.nodes;
  KGREC_CHECK(book.numNodes() == nodes.numNodes(), "partition book has {} nodes, shard {}",
              book.numNodes(), nodes.numNodes());
  KGREC_CHECK(static_cast<std::int64_t>(stats.degree.size()) == nodes.numNodes(),
              "graph stats have {} degrees for {} nodes", stats.degree.size(), nodes.numNodes());
  KGREC_CHECK(stats.num_train >= numSeeds(), "graph stats count {} training interactions, "
              "fewer than this part's {}", stats.num_train, numSeeds());
  in_edges_ = ownedInEdgesByGlobalId(shard);
  user_items_ = userItemCsr(shard.train, nodes.num_users);
  const auto cold = static_cast<std::int64_t>(shard.cold_items.size());
  for (std::int64_t u = 0; u < user_items_.numRows(); ++u) {
    KGREC_CHECK(user_items_.degree(u) + cold < nodes.num_items,
                "user {} interacted with every item that is not cold: no negative can be drawn", u);
  }
  if (options_.popularity_negatives) {
    KGREC_CHECK(static_cast<std::int64_t>(stats.item_interactions.size()) == nodes.num_items,
                "graph stats have {} item counts for {} items", stats.item_interactions.size(),
                nodes.num_items);
    // Add-one smoothing: every item stays drawable, so rejection always terminates.
    popularity_cdf_.resize(nodes.num_items);
    double total = 0.0;
    for (std::int64_t i = 0; i < nodes.num_items; ++i) {
      if (!isCold(i)) total += static_cast<double>(stats.item_interactions[i] + 1);
      popularity_cdf_[i] = total;
    }
  }
}

std::int64_t NeighborSampler::stepsPerEpoch() const {
  return (stats_.num_train + options_.batch_size - 1) / options_.batch_size;
}

std::shared_ptr<const NeighborSampler::EpochSchedule> NeighborSampler::epochSchedule(
    std::int64_t epoch) const {
  std::lock_guard<std::mutex> lock(schedule_mutex_);
  if (schedule_epoch_ != epoch) {
    const std::int64_t steps = stepsPerEpoch();
    const std::uint64_t epoch_stream =
        mixSeed(options_.seed, static_cast<std::uint64_t>(epoch), kShuffleStream);
    const NodeSpace& space = shard_.nodes;
    // (step, hash, index): the hash is a function of the interaction alone, so every
    // partitioning puts it in the same step, at the same place among that step's seeds.
    std::vector<std::tuple<std::int64_t, std::uint64_t, std::int64_t>> keyed(numSeeds());
    for (std::int64_t i = 0; i < numSeeds(); ++i) {
      const Interaction& x = shard_.train[i];
      const std::uint64_t hash =
          mixSeed(epoch_stream, static_cast<std::uint64_t>(space.globalId(NodeType::kUser, x.user)),
                  static_cast<std::uint64_t>(space.globalId(NodeType::kItem, x.item)));
      const auto step =
          static_cast<std::int64_t>(scaleToRange(hash, static_cast<std::uint64_t>(steps)));
      keyed[i] = {step, hash, i};
    }
    std::sort(keyed.begin(), keyed.end());
    auto schedule = std::make_shared<EpochSchedule>();
    schedule->order.reserve(keyed.size());
    schedule->step_begin.assign(steps + 1, 0);
    for (const auto& [step, hash, index] : keyed) {
      schedule->order.push_back(index);
      ++schedule->step_begin[step + 1];
    }
    std::partial_sum(schedule->step_begin.begin(), schedule->step_begin.end(),
                     schedule->step_begin.begin());
    schedule_ = std::move(schedule);
    schedule_epoch_ = epoch;
  }
  return schedule_;
}

bool NeighborSampler::isCold(std::int64_t item) const {
  return std::binary_search(shard_.cold_items.begin(), shard_.cold_items.end(),
                            static_cast<std::int32_t>(item));
}

void NeighborSampler::drawNegatives(std::int64_t user, SplitMix64& rng, std::int64_t* out) const {
  const auto first = user_items_.indices.begin() + user_items_.indptr[user];
  const auto last = user_items_.indices.begin() + user_items_.indptr[user + 1];
  const std::int64_t num_items = shard_.nodes.num_items;
  for (std::int64_t k = 0; k < options_.negatives; ++k) {
    std::int64_t item;
    do {
      if (popularity_cdf_.empty()) {
        item = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(num_items)));
      } else {
        const double u = rng.uniform() * popularity_cdf_.back();
        item = std::min<std::int64_t>(
            std::upper_bound(popularity_cdf_.begin(), popularity_cdf_.end(), u) -
                popularity_cdf_.begin(),
            num_items - 1);
      }
    } while (std::binary_search(first, last, static_cast<std::int32_t>(item)) || isCold(item));
    out[k] = shard_.nodes.globalId(NodeType::kItem, item);
  }
}

void NeighborSampler::drawInEdges(std::int64_t global, std::uint64_t stream, std::int64_t hop,
                                  SampledNeighbors* out) const {
  KGREC_ASSERT(book_.partOf(global) == shard_.part);
  const Csr& graph = in_edges_;
  const std::int64_t begin = graph.indptr[book_.localId(global)];
  const std::int64_t end = graph.indptr[book_.localId(global) + 1];
  // One stream per (batch, hop, node): a node's draw does not depend on which other nodes are
  // drawn with it, so an owner answering a remote request draws exactly the same edges.
  SplitMix64 rng(mixSeed(stream, static_cast<std::uint64_t>(hop) + 1,
                         static_cast<std::uint64_t>(global)));
  thread_local std::vector<std::int64_t> offsets, group;
  auto emit = [&](std::int64_t position, std::int64_t group_size) {
    out->sources.push_back(graph.indices[position]);
    out->relations.push_back(graph.relations[position]);
    out->inverse_rates.push_back(static_cast<float>(static_cast<double>(group_size) /
                                                    static_cast<double>(offsets.size())));
  };
  if (options_.relation_fanouts.empty()) {
    drawOffsets(end - begin, options_.fanouts[hop], options_.replace, rng, &offsets);
    for (std::int64_t o : offsets) emit(begin + o, end - begin);
    return;
  }
  // The relations in no group share fanouts[hop]; then each group in the options' order.
  const auto groups = static_cast<std::int32_t>(options_.relation_fanouts.size());
  for (std::int32_t g = -1; g < groups; ++g) {
    group.clear();
    for (std::int64_t p = begin; p < end; ++p) {
      if (group_of_relation_[graph.relations[p]] == g) group.push_back(p);
    }
    const auto size = static_cast<std::int64_t>(group.size());
    drawOffsets(size, g < 0 ? options_.fanouts[hop] : options_.relation_fanouts[g].fanouts[hop],
                options_.replace, rng, &offsets);
    for (std::int64_t o : offsets) emit(group[o], size);
  }
}

SampledNeighbors NeighborSampler::sampleOwnedNeighbors(const std::vector<std::int64_t>& nodes,
                                                       std::uint64_t stream,
                                                       std::int64_t hop) const {
  KGREC_CHECK(hop >= 0 && hop < static_cast<std::int64_t>(options_.fanouts.size()),
              "hop {} out of range: {} layers", hop, options_.fanouts.size());
  SampledNeighbors out;
  out.indptr.push_back(0);
  for (std::int64_t node : nodes) {
    KGREC_CHECK(node >= 0 && node < book_.numNodes() && book_.partOf(node) == shard_.part,
                "node {} is not owned by part {}", node, shard_.part);
    drawInEdges(node, stream, hop, &out);
    out.indptr.push_back(static_cast<std::int64_t>(out.sources.size()));
  }
  return out;
}

SampledNeighbors InProcessNeighborSource::sampleNeighbors(const std::vector<std::int64_t>& nodes,
                                                          std::uint64_t stream,
                                                          std::int64_t hop, int) const {
  KGREC_CHECK(static_cast<std::int64_t>(owners_.size()) == book_.numParts(),
              "{} owner samplers for {} parts", owners_.size(), book_.numParts());
  std::vector<std::vector<std::int64_t>> asked(owners_.size());
  std::vector<std::int64_t> row(nodes.size());  // the node's row in its owner's answer
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto& list = asked[book_.partOf(nodes[i])];
    row[i] = static_cast<std::int64_t>(list.size());
    list.push_back(nodes[i]);
  }
  std::vector<SampledNeighbors> answers(owners_.size());
  for (std::size_t part = 0; part < owners_.size(); ++part) {
    if (!asked[part].empty()) {
      answers[part] = owners_[part]->sampleOwnedNeighbors(asked[part], stream, hop);
    }
  }
  SampledNeighbors out;
  out.indptr.push_back(0);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const SampledNeighbors& answer = answers[book_.partOf(nodes[i])];
    const std::int64_t b = answer.indptr[row[i]], e = answer.indptr[row[i] + 1];
    out.sources.insert(out.sources.end(), answer.sources.begin() + b, answer.sources.begin() + e);
    out.relations.insert(out.relations.end(), answer.relations.begin() + b,
                         answer.relations.begin() + e);
    out.inverse_rates.insert(out.inverse_rates.end(), answer.inverse_rates.begin() + b,
                             answer.inverse_rates.begin() + e);
    out.indptr.push_back(static_cast<std::int64_t>(out.sources.size()));
  }
  return out;
}

MiniBatch NeighborSampler::sampleSeeds(std::int64_t epoch, std::int64_t step) const {
  KGREC_CHECK(epoch >= 0, "epoch {} is negative", epoch);
  KGREC_CHECK(step >= 0 && step < stepsPerEpoch(), "step {} out of range: {} steps per epoch",
              step, stepsPerEpoch());
  const std::uint64_t negative_stream =
      mixSeed(options_.seed, static_cast<std::uint64_t>(epoch), kNegativeStream);
  const auto schedule = epochSchedule(epoch);
  const NodeSpace& space = shard_.nodes;
  const std::int64_t first = schedule->step_begin[step];
  const std::int64_t count = schedule->step_begin[step + 1] - first;
  const std::int64_t k = options_.negatives;

  MiniBatch batch;
  batch.epoch = epoch;
  batch.step = step;
  batch.users.resize(count);
  batch.positives.resize(count);
  batch.negatives.resize(count * k);
  for (std::int64_t i = 0; i < count; ++i) {
    const Interaction& seed = shard_.train[schedule->order[first + i]];
    batch.users[i] = space.globalId(NodeType::kUser, seed.user);
    batch.positives[i] = space.globalId(NodeType::kItem, seed.item);
    // Per seed, so that the negatives do not depend on which rank draws them.
    SplitMix64 rng(mixSeed(negative_stream, static_cast<std::uint64_t>(batch.users[i]),
                           static_cast<std::uint64_t>(batch.positives[i])));
    drawNegatives(seed.user, rng, batch.negatives.data() + i * k);
  }

  // The seed nodes in order of first appearance.
  std::unordered_map<std::int64_t, std::int32_t> position;
  for (auto [seeds, rows] : {std::pair{&batch.users, &batch.user_rows},
                             std::pair{&batch.positives, &batch.positive_rows},
                             std::pair{&batch.negatives, &batch.negative_rows}}) {
    rows->reserve(seeds->size());
    for (std::int64_t g : *seeds) {
      const auto [it, inserted] =
          position.emplace(g, static_cast<std::int32_t>(batch.input_nodes.size()));
      if (inserted) batch.input_nodes.push_back(g);
      rows->push_back(it->second);
    }
  }
  return batch;
}

MiniBatch NeighborSampler::sample(std::int64_t epoch, std::int64_t step) const {
  MiniBatch batch = sampleSeeds(epoch, step);
  const std::uint64_t stream =
      mixSeed(options_.seed, static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(step));
  // Every node of the batch in order of first appearance (the seeds first); hop h's sources
  // are its prefix.
  std::vector<std::int64_t> nodes = std::move(batch.input_nodes);
  std::unordered_map<std::int64_t, std::int32_t> position;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    position.emplace(nodes[i], static_cast<std::int32_t>(i));
  }
  auto add = [&](std::int64_t global) {
    const auto [it, inserted] = position.emplace(global, static_cast<std::int32_t>(nodes.size()));
    if (inserted) nodes.push_back(global);
    return it->second;
  };

  const auto layers = static_cast<std::int64_t>(options_.fanouts.size());
  batch.blocks.resize(layers);
  SampledNeighbors own;
  for (std::int64_t hop = 0; hop < layers; ++hop) {
    Block& block = batch.blocks[layers - 1 - hop];
    block.dst_nodes = nodes;
    SampledNeighbors remote;
    if (remote_ != nullptr) {
      std::vector<std::int64_t> wanted;
      for (std::int64_t g : block.dst_nodes) {
        if (book_.partOf(g) != shard_.part) wanted.push_back(g);
      }
      if (!wanted.empty() || remote_->collective()) {
        remote = remote_->sampleNeighbors(wanted, stream, hop,
                                          static_cast<int>(step % remote_->lanes()));
        KGREC_CHECK(remote.indptr.size() == wanted.size() + 1,
                    "remote neighbour source answered {} rows for {} nodes",
                    remote.indptr.size() - 1, wanted.size());
      }
    }
    std::size_t remote_row = 0;
    block.indptr.assign(1, 0);
    for (std::int64_t dst : block.dst_nodes) {
      const SampledNeighbors* drawn = &own;
      std::int64_t b = 0, e = 0;
      if (book_.partOf(dst) == shard_.part) {
        own.sources.clear();
        own.relations.clear();
        own.inverse_rates.clear();
        drawInEdges(dst, stream, hop, &own);
        e = static_cast<std::int64_t>(own.sources.size());
      } else if (remote_ != nullptr) {
        drawn = &remote;
        b = remote.indptr[remote_row];
        e = remote.indptr[remote_row + 1];
        ++remote_row;
      }
      const double dst_degree = stats_.degree[dst];
      for (std::int64_t j = b; j < e; ++j) {
        const std::int64_t source = drawn->sources[j];
        block.indices.push_back(add(source));
        block.relations.push_back(drawn->relations[j]);
        block.edge_weight.push_back(static_cast<float>(
            drawn->inverse_rates[j] / std::sqrt(dst_degree * stats_.degree[source])));
      }
      block.indptr.push_back(block.numEdges());
    }
    block.src_nodes = nodes;
  }
  batch.input_nodes = batch.blocks.front().src_nodes;
  return batch;
}

}  // namespace kgrec
