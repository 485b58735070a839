#include "sampler/neighbor_sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "engine/common/error.h"
#include "engine/common/random.h"

namespace kgrec {
namespace {

// Stream ids under mixSeed(seed, epoch, ·) and mixSeed(batch stream, ·, ·). Steps are >= 0
// and hops use 1 + hop, so these never collide with them.
constexpr std::uint64_t kShuffleStream = ~0ULL;
constexpr std::uint64_t kNegativeStream = 0;

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
  for (const auto& [relation, fanouts] : options.relation_fanouts) {
    if (relation < 0 || relation >= num_relations) {
      throw ConfigError(fmt::format("relation fanout for relation {}: the graph has relation "
                                    "ids 0..{}", relation, num_relations - 1));
    }
    if (fanouts.size() != options.fanouts.size()) {
      throw ConfigError(fmt::format("relation {} has {} fanouts for {} layers", relation,
                                    fanouts.size(), options.fanouts.size()));
    }
    for (std::size_t h = 0; h < fanouts.size(); ++h) {
      checkFanout(fanouts[h], fmt::format("fanout of relation {} at hop {}", relation, h + 1));
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
  return stats;
}

NeighborSampler::NeighborSampler(const Shard& shard, const PartitionBook& book,
                                 const GraphStats& stats, SamplerOptions options,
                                 const RemoteNeighborSource* remote)
    : shard_(shard), book_(book), stats_(stats), options_(std::move(options)), remote_(remote) {
  validateSamplerOptions(options_, static_cast<std::int64_t>(shard.relation_names.size()));
  const NodeSpace& nodes = shard.nodes;
  KGREC_CHECK(book.numNodes() == nodes.numNodes(), "partition book has {} nodes, shard {}",
              book.numNodes(), nodes.numNodes());
  KGREC_CHECK(static_cast<std::int64_t>(stats.degree.size()) == nodes.numNodes(),
              "graph stats have {} degrees for {} nodes", stats.degree.size(), nodes.numNodes());
  in_edges_.indptr = shard.graph.indptr;
  in_edges_.indices.resize(shard.graph.indices.size());
  in_edges_.relations.resize(shard.graph.indices.size());
  std::vector<std::pair<std::int32_t, std::int32_t>> row;
  for (std::int64_t v = 0; v < shard.graph.numRows(); ++v) {
    row.clear();
    for (std::int64_t e = shard.graph.indptr[v]; e < shard.graph.indptr[v + 1]; ++e) {
      row.emplace_back(shard.global_ids[shard.graph.indices[e]], shard.graph.relations[e]);
    }
    std::sort(row.begin(), row.end());
    for (std::size_t k = 0; k < row.size(); ++k) {
      in_edges_.indices[shard.graph.indptr[v] + k] = row[k].first;
      in_edges_.relations[shard.graph.indptr[v] + k] = row[k].second;
    }
  }
  user_items_ = userItemCsr(shard.train, nodes.num_users);
  for (std::int64_t u = 0; u < user_items_.numRows(); ++u) {
    KGREC_CHECK(user_items_.degree(u) < nodes.num_items,
                "user {} interacted with every item: no negative can be drawn", u);
  }
  if (options_.popularity_negatives) {
    KGREC_CHECK(static_cast<std::int64_t>(stats.item_interactions.size()) == nodes.num_items,
                "graph stats have {} item counts for {} items", stats.item_interactions.size(),
                nodes.num_items);
    // Add-one smoothing: every item stays drawable, so rejection always terminates.
    popularity_cdf_.resize(nodes.num_items);
    double total = 0.0;
    for (std::int64_t i = 0; i < nodes.num_items; ++i) {
      total += static_cast<double>(stats.item_interactions[i] + 1);
      popularity_cdf_[i] = total;
    }
  }
}

std::int64_t NeighborSampler::stepsPerEpoch() const {
  return (numSeeds() + options_.batch_size - 1) / options_.batch_size;
}

std::shared_ptr<const std::vector<std::int64_t>> NeighborSampler::epochOrder(
    std::int64_t epoch) const {
  std::lock_guard<std::mutex> lock(order_mutex_);
  if (order_epoch_ != epoch) {
    auto order = std::make_shared<std::vector<std::int64_t>>(numSeeds());
    std::iota(order->begin(), order->end(), 0);
    SplitMix64 rng(mixSeed(options_.seed, static_cast<std::uint64_t>(epoch), kShuffleStream));
    for (std::int64_t i = numSeeds() - 1; i > 0; --i) {
      std::swap((*order)[i], (*order)[rng.below(static_cast<std::uint64_t>(i + 1))]);
    }
    order_ = std::move(order);
    order_epoch_ = epoch;
  }
  return order_;
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
    } while (std::binary_search(first, last, static_cast<std::int32_t>(item)));
    out[k] = shard_.nodes.globalId(NodeType::kItem, item);
  }
}

void NeighborSampler::drawInEdges(std::int64_t global, std::uint64_t stream, std::int64_t hop,
                                  std::vector<std::int64_t>* sources,
                                  std::vector<std::int32_t>* relations) const {
  KGREC_ASSERT(book_.partOf(global) == shard_.part);
  const Csr& graph = in_edges_;
  const std::int64_t begin = graph.indptr[book_.localId(global)];
  const std::int64_t end = graph.indptr[book_.localId(global) + 1];
  // One stream per (batch, hop, node): a node's draw does not depend on which other nodes are
  // drawn with it, so an owner answering a remote request draws exactly the same edges.
  SplitMix64 rng(mixSeed(stream, static_cast<std::uint64_t>(hop) + 1,
                         static_cast<std::uint64_t>(global)));
  thread_local std::vector<std::int64_t> offsets, group;
  auto emit = [&](std::int64_t position) {
    sources->push_back(graph.indices[position]);
    relations->push_back(graph.relations[position]);
  };
  if (options_.relation_fanouts.empty()) {
    drawOffsets(end - begin, options_.fanouts[hop], options_.replace, rng, &offsets);
    for (std::int64_t o : offsets) emit(begin + o);
    return;
  }
  // The unmapped relations share fanouts[hop]; then each mapped relation in id order.
  auto drawGroup = [&](std::int64_t fanout, auto&& member) {
    group.clear();
    for (std::int64_t p = begin; p < end; ++p) {
      if (member(graph.relations[p])) group.push_back(p);
    }
    drawOffsets(static_cast<std::int64_t>(group.size()), fanout, options_.replace, rng, &offsets);
    for (std::int64_t o : offsets) emit(group[o]);
  };
  drawGroup(options_.fanouts[hop],
            [&](std::int32_t r) { return options_.relation_fanouts.count(r) == 0; });
  for (const auto& [relation, fanouts] : options_.relation_fanouts) {
    drawGroup(fanouts[hop], [relation = relation](std::int32_t r) { return r == relation; });
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
    drawInEdges(node, stream, hop, &out.sources, &out.relations);
    out.indptr.push_back(static_cast<std::int64_t>(out.sources.size()));
  }
  return out;
}

SampledNeighbors InProcessNeighborSource::sampleNeighbors(const std::vector<std::int64_t>& nodes,
                                                          std::uint64_t stream,
                                                          std::int64_t hop) const {
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
    out.indptr.push_back(static_cast<std::int64_t>(out.sources.size()));
  }
  return out;
}

MiniBatch NeighborSampler::sample(std::int64_t epoch, std::int64_t step) const {
  KGREC_CHECK(epoch >= 0, "epoch {} is negative", epoch);
  KGREC_CHECK(step >= 0 && step < stepsPerEpoch(), "step {} out of range: {} steps per epoch",
              step, stepsPerEpoch());
  const std::uint64_t stream =
      mixSeed(options_.seed, static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(step));
  const auto order = epochOrder(epoch);
  const NodeSpace& space = shard_.nodes;
  const std::int64_t first = step * options_.batch_size;
  const std::int64_t count = std::min(options_.batch_size, numSeeds() - first);
  const std::int64_t k = options_.negatives;

  MiniBatch batch;
  batch.epoch = epoch;
  batch.step = step;
  batch.users.resize(count);
  batch.positives.resize(count);
  batch.negatives.resize(count * k);
  SplitMix64 negative_rng(mixSeed(stream, kNegativeStream));
  for (std::int64_t i = 0; i < count; ++i) {
    const Interaction& seed = shard_.train[(*order)[first + i]];
    batch.users[i] = space.globalId(NodeType::kUser, seed.user);
    batch.positives[i] = space.globalId(NodeType::kItem, seed.item);
    drawNegatives(seed.user, negative_rng, batch.negatives.data() + i * k);
  }

  // Every node of the batch in order of first appearance; hop h's sources are its prefix.
  std::vector<std::int64_t> nodes;
  std::unordered_map<std::int64_t, std::int32_t> position;
  auto add = [&](std::int64_t global) {
    const auto [it, inserted] = position.emplace(global, static_cast<std::int32_t>(nodes.size()));
    if (inserted) nodes.push_back(global);
    return it->second;
  };
  for (const auto* seeds : {&batch.users, &batch.positives, &batch.negatives}) {
    for (std::int64_t g : *seeds) add(g);
  }

  const auto layers = static_cast<std::int64_t>(options_.fanouts.size());
  batch.blocks.resize(layers);
  std::vector<std::int64_t> sources;
  std::vector<std::int32_t> relations;
  for (std::int64_t hop = 0; hop < layers; ++hop) {
    Block& block = batch.blocks[layers - 1 - hop];
    block.dst_nodes = nodes;
    SampledNeighbors remote;
    if (remote_ != nullptr) {
      std::vector<std::int64_t> wanted;
      for (std::int64_t g : block.dst_nodes) {
        if (book_.partOf(g) != shard_.part) wanted.push_back(g);
      }
      if (!wanted.empty()) {
        remote = remote_->sampleNeighbors(wanted, stream, hop);
        KGREC_CHECK(remote.indptr.size() == wanted.size() + 1,
                    "remote neighbour source answered {} rows for {} nodes",
                    remote.indptr.size() - 1, wanted.size());
      }
    }
    std::size_t remote_row = 0;
    block.indptr.assign(1, 0);
    for (std::int64_t dst : block.dst_nodes) {
      sources.clear();
      relations.clear();
      if (book_.partOf(dst) == shard_.part) {
        drawInEdges(dst, stream, hop, &sources, &relations);
      } else if (remote_ != nullptr) {
        const std::int64_t b = remote.indptr[remote_row], e = remote.indptr[remote_row + 1];
        sources.assign(remote.sources.begin() + b, remote.sources.begin() + e);
        relations.assign(remote.relations.begin() + b, remote.relations.begin() + e);
        ++remote_row;
      }
      const double dst_degree = stats_.degree[dst];
      for (std::size_t e = 0; e < sources.size(); ++e) {
        block.indices.push_back(add(sources[e]));
        block.relations.push_back(relations[e]);
        block.edge_weight.push_back(
            static_cast<float>(1.0 / std::sqrt(dst_degree * stats_.degree[sources[e]])));
      }
      block.indptr.push_back(block.numEdges());
    }
    block.src_nodes = nodes;
  }
  batch.input_nodes = batch.blocks.front().src_nodes;
  return batch;
}

}  // namespace kgrec
