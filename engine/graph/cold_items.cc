#include "engine/graph/cold_items.h"

#include <algorithm>
#include <cmath>

#include "engine/common/error.h"
#include "engine/common/random.h"
#include "engine/graph/dataset_builder.h"

namespace kgrec {

Dataset holdOutColdItems(const Dataset& d, double fraction, std::uint64_t seed) {
  if (!(fraction > 0.0 && fraction < 1.0)) {
    throw ConfigError(fmt::format("--cold-items {}: expected a fraction in (0, 1)", fraction));
  }
  std::vector<std::int32_t> candidates;
  const std::vector<std::int64_t> degree = itemDegrees(d.train, d.nodes.num_items);
  for (std::int64_t i = 0; i < d.nodes.num_items; ++i) {
    if (degree[i] > 0) candidates.push_back(static_cast<std::int32_t>(i));
  }
  const auto count = static_cast<std::size_t>(std::llround(fraction * candidates.size()));
  if (count == 0) {
    throw ConfigError(fmt::format("--cold-items {}: no item would be cold ({} items have training "
                                  "interactions)", fraction, candidates.size()));
  }
  // Partial Fisher-Yates: the first `count` positions become the cold items.
  SplitMix64 rng(mixSeed(seed, 0xC01D));
  for (std::size_t k = 0; k < count; ++k) {
    std::swap(candidates[k], candidates[k + rng.below(candidates.size() - k)]);
  }
  std::vector<std::int32_t> cold(candidates.begin(), candidates.begin() + count);
  std::sort(cold.begin(), cold.end());
  auto isCold = [&](std::int32_t item) { return std::binary_search(cold.begin(), cold.end(), item); };

  // Rebuild through the builder, which re-lays the CSR: interning the original ids in index
  // order keeps every node's index.
  DatasetBuilder b(d.name);
  const std::pair<NodeType, const std::vector<std::string>*> id_lists[] = {
      {NodeType::kUser, &d.user_ids}, {NodeType::kItem, &d.item_ids}, {NodeType::kEntity, &d.entity_ids}};
  for (const auto& [type, ids] : id_lists) {
    for (const std::string& id : *ids) b.intern(type, id);
  }
  auto add = [&](Split to, const Interaction& x, const std::vector<std::int64_t>& times, std::size_t k) {
    if (times.empty()) {
      b.addInteraction(to, x.user, x.item);
    } else {
      b.addInteraction(to, x.user, x.item, times[k]);
    }
  };
  for (std::size_t k = 0; k < d.train.size(); ++k) add(isCold(d.train[k].item) ? Split::kTest : Split::kTrain, d.train[k], d.train_times, k);
  for (std::size_t k = 0; k < d.valid.size(); ++k) add(isCold(d.valid[k].item) ? Split::kTest : Split::kValid, d.valid[k], d.valid_times, k);
  for (std::size_t k = 0; k < d.test.size(); ++k) add(Split::kTest, d.test[k], d.test_times, k);
  for (std::int32_t k = 0; k < d.numKgRelations(); ++k) b.relation(d.relation_names[kgForwardRelation(k)]);
  auto ref = [&](std::int32_t global) {
    const NodeType type = d.nodes.typeOf(global);
    return NodeRef{type, d.nodes.localIndex(global)};
  };
  for (const Triple& t : d.triples) b.addTriple(ref(t.head), t.relation, ref(t.tail));
  for (std::int64_t i = 0; i < d.nodes.num_items; ++i) b.setText(NodeType::kItem, i, d.item_texts[i]);
  for (std::int64_t e = 0; e < d.nodes.num_entities; ++e) b.setText(NodeType::kEntity, e, d.entity_texts[e]);
  for (const auto& [key, value] : d.metadata) b.setMetadata(key, value);
  b.setMetadata("cold_items.fraction", fmt::format("{}", fraction));
  b.setMetadata("cold_items.seed", std::to_string(seed));
  Dataset out = b.build();
  out.cold_items = std::move(cold);
  validateDataset(out);
  return out;
}

}  // namespace kgrec
