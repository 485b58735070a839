#include "sampler/dist/dist_sampling.h"

#include "engine/common/error.h"
#include "sampler/epoch_steps.h"

namespace kgrec {

std::int64_t agreeOnStepsPerEpoch(ProcessGroup& group, std::int64_t local_steps) {
  torch::Tensor mine = torch::full({1}, local_steps, torch::kInt64);
  torch::Tensor all = group.allGather(mine)->result().tensor.contiguous();
  const std::int64_t* counts = all.data_ptr<std::int64_t>();
  return agreedStepsPerEpoch(std::vector<std::int64_t>(counts, counts + all.numel()));
}

GraphStats gatherGraphStats(ProcessGroup& group, const Shard& shard, const PartitionBook& book) {
  KGREC_CHECK(shard.part == group.rank() && shard.num_parts == group.size(),
              "rank {} of {} holds part {} of {}: ranks must hold their own part", group.rank(),
              group.size(), shard.part, shard.num_parts);
  torch::Tensor owned_degrees = torch::empty({shard.num_owned}, torch::kInt32);
  for (std::int64_t v = 0; v < shard.num_owned; ++v) {
    owned_degrees.data_ptr<std::int32_t>()[v] = static_cast<std::int32_t>(shard.graph.degree(v));
  }
  torch::Tensor items = torch::zeros({shard.nodes.num_items}, torch::kInt64);
  for (const Interaction& x : shard.train) ++items.data_ptr<std::int64_t>()[x.item];
  WorkPtr degrees_work = group.allGatherV(owned_degrees);
  WorkPtr items_work = group.allReduce(items);

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
  items_work->wait();
  const std::int64_t* counts = items.data_ptr<std::int64_t>();
  stats.item_interactions.assign(counts, counts + items.numel());
  return stats;
}

}  // namespace kgrec
