#include "sampler/dist/dist_sampling.h"

#include <cstring>

#include "engine/common/error.h"

namespace kgrec {

GraphStats gatherGraphStats(ProcessGroup& group, const Shard& shard, const PartitionBook& book) {
  KGREC_CHECK(shard.part == group.rank() && shard.num_parts == group.size(),
              "rank {} of {} holds part {} of {}: ranks must hold their own part", group.rank(),
              group.size(), shard.part, shard.num_parts);
  torch::Tensor owned_degrees = torch::empty({shard.num_owned}, torch::kInt32);
  for (std::int64_t v = 0; v < shard.num_owned; ++v) {
    owned_degrees.data_ptr<std::int32_t>()[v] = static_cast<std::int32_t>(shard.graph.degree(v));
  }
  // Item counts, then the part's training interactions in the last slot.
  torch::Tensor counts = torch::zeros({shard.nodes.num_items + 1}, torch::kInt64);
  std::int64_t* count = counts.data_ptr<std::int64_t>();
  for (const Interaction& x : shard.train) ++count[x.item];
  count[shard.nodes.num_items] = static_cast<std::int64_t>(shard.train.size());
  WorkPtr degrees_work = group.allGatherV(owned_degrees);
  WorkPtr counts_work = group.allReduce(counts);

  GraphStats stats;
  stats.degree.resize(book.numNodes());
  RankRows rows = degrees_work->result();
  const torch::Tensor gathered = rows.tensor.contiguous();
  const std::int32_t* all = gathered.data_ptr<std::int32_t>();
  std::int64_t offset = 0;
  for (std::int32_t part = 0; part < group.size(); ++part) {
    KGREC_CHECK(rows.counts[part] == book.numOwned(part), "part {} sent {} degrees for {} nodes",
                part, rows.counts[part], book.numOwned(part));
    for (std::int64_t local = 0; local < rows.counts[part]; ++local) {
      stats.degree[book.globalId(part, local)] = all[offset++];
    }
  }
  counts_work->wait();
  stats.item_interactions.assign(count, count + shard.nodes.num_items);
  stats.num_train = count[shard.nodes.num_items];
  return stats;
}

CommNeighborSource::CommNeighborSource(std::vector<std::shared_ptr<ProcessGroup>> lanes,
                                       const PartitionBook& book)
    : lanes_(std::move(lanes)), book_(book) {
  KGREC_CHECK(!lanes_.empty(), "CommNeighborSource needs at least one lane");
  for (const auto& lane : lanes_) {
    KGREC_CHECK(book_.numParts() == lane->size(), "{} parts for {} ranks", book_.numParts(),
                lane->size());
  }
}

SampledNeighbors CommNeighborSource::sampleNeighbors(const std::vector<std::int64_t>& nodes,
                                                     std::uint64_t stream, std::int64_t hop,
                                                     int lane) const {
  KGREC_CHECK(owner_ != nullptr, "CommNeighborSource has no owner sampler: call setOwner first");
  KGREC_CHECK(lane >= 0 && lane < lanes(), "lane {} of {}", lane, lanes());
  ProcessGroup& group = *lanes_[static_cast<std::size_t>(lane)];
  const int size = group.size();
  // Requests grouped by owner; row[i] is node i's place among its owner's requests.
  std::vector<std::int64_t> send_counts(size, 0), row(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) row[i] = send_counts[book_.partOf(nodes[i])]++;
  std::vector<std::int64_t> first(size + 1, 0);
  for (int r = 0; r < size; ++r) first[r + 1] = first[r] + send_counts[r];
  torch::Tensor request = torch::empty({static_cast<std::int64_t>(nodes.size())}, torch::kInt64);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    request.data_ptr<std::int64_t>()[first[book_.partOf(nodes[i])] + row[i]] = nodes[i];
  }
  RankRows asked = group.allToAllV(request, send_counts)->result();

  // Answer every requester with this rank's own draws.
  const torch::Tensor asked_ids = asked.tensor.contiguous();
  const std::int64_t* ids = asked_ids.data_ptr<std::int64_t>();
  const SampledNeighbors answer = owner_->sampleOwnedNeighbors(
      std::vector<std::int64_t>(ids, ids + asked_ids.numel()), stream, hop);
  torch::Tensor degrees = torch::empty({asked_ids.numel()}, torch::kInt64);
  for (std::int64_t i = 0; i < asked_ids.numel(); ++i) {
    degrees.data_ptr<std::int64_t>()[i] = answer.indptr[i + 1] - answer.indptr[i];
  }
  const auto num_edges = static_cast<std::int64_t>(answer.sources.size());
  torch::Tensor edges = torch::empty({num_edges, 3}, torch::kInt64);
  std::int64_t* edge = edges.data_ptr<std::int64_t>();
  for (std::int64_t e = 0; e < num_edges; ++e) {
    std::uint32_t rate_bits;
    std::memcpy(&rate_bits, &answer.inverse_rates[e], sizeof rate_bits);
    edge[3 * e] = answer.sources[e];
    edge[3 * e + 1] = answer.relations[e];
    edge[3 * e + 2] = rate_bits;
  }
  std::vector<std::int64_t> edge_counts(size, 0);
  std::int64_t asked_row = 0;
  for (int r = 0; r < size; ++r) {
    edge_counts[r] = answer.indptr[asked_row + asked.counts[r]] - answer.indptr[asked_row];
    asked_row += asked.counts[r];
  }
  WorkPtr degrees_work = group.allToAllV(degrees, asked.counts);
  WorkPtr edges_work = group.allToAllV(edges, edge_counts);
  bytes_sent_ += 8 * (request.numel() + degrees.numel() + edges.numel());

  // Received in request order (owner by owner); put back in the order of `nodes`.
  const torch::Tensor got_degrees = degrees_work->result().tensor.contiguous();
  const torch::Tensor got_edges = edges_work->result().tensor.contiguous();
  const std::int64_t* degree = got_degrees.data_ptr<std::int64_t>();
  const std::int64_t* got = got_edges.data_ptr<std::int64_t>();
  std::vector<std::int64_t> edge_begin(nodes.size() + 1, 0);  // by request position
  for (std::size_t p = 0; p < nodes.size(); ++p) edge_begin[p + 1] = edge_begin[p] + degree[p];
  SampledNeighbors out;
  out.indptr.push_back(0);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::int64_t p = first[book_.partOf(nodes[i])] + row[i];
    for (std::int64_t e = edge_begin[p]; e < edge_begin[p + 1]; ++e) {
      const auto rate_bits = static_cast<std::uint32_t>(got[3 * e + 2]);
      float rate;
      std::memcpy(&rate, &rate_bits, sizeof rate);
      out.sources.push_back(got[3 * e]);
      out.relations.push_back(static_cast<std::int32_t>(got[3 * e + 1]));
      out.inverse_rates.push_back(rate);
    }
    out.indptr.push_back(static_cast<std::int64_t>(out.sources.size()));
  }
  return out;
}

}  // namespace kgrec
