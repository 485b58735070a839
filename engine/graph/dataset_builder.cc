#include "engine/graph/dataset_builder.h"

#include <algorithm>
#include <tuple>

#include "engine/common/error.h"

namespace kgrec {

DatasetBuilder::DatasetBuilder(std::string name) : name_(std::move(name)) {}

DatasetBuilder::TypeIds& DatasetBuilder::ids(NodeType type) {
  return const_cast<TypeIds&>(static_cast<const DatasetBuilder*>(this)->ids(type));
}

const DatasetBuilder::TypeIds& DatasetBuilder::ids(NodeType type) const {
  switch (type) {
    case NodeType::kUser: return users_;
    case NodeType::kItem: return items_;
    default: return entities_;
  }
}

void DatasetBuilder::ensureNodes(NodeType type, std::int64_t count) {
  KGREC_CHECK(count <= INT32_MAX, "{} count {} exceeds 2^31-1", nodeTypeName(type), count);
  TypeIds& t = ids(type);
  t.count = std::max(t.count, count);
}

std::int64_t DatasetBuilder::intern(NodeType type, std::string_view original_id) {
  TypeIds& t = ids(type);
  auto it = t.by_name.find(std::string(original_id));
  if (it != t.by_name.end()) return it->second;
  const std::int64_t index = t.count++;
  t.by_name.emplace(std::string(original_id), index);
  if (t.names.size() < static_cast<std::size_t>(index)) t.names.resize(index);
  t.names.emplace_back(original_id);
  return index;
}

std::int64_t DatasetBuilder::count(NodeType type) const { return ids(type).count; }

void DatasetBuilder::addInteraction(Split split, std::int64_t user, std::int64_t item) {
  KGREC_CHECK(user >= 0 && item >= 0 && user <= INT32_MAX && item <= INT32_MAX,
              "interaction ({}, {}) out of range", user, item);
  ensureNodes(NodeType::kUser, user + 1);
  ensureNodes(NodeType::kItem, item + 1);
  splits_[static_cast<int>(split)].push_back(
      {static_cast<std::int32_t>(user), static_cast<std::int32_t>(item)});
}

void DatasetBuilder::addInteraction(Split split, std::int64_t user, std::int64_t item,
                                    std::int64_t time) {
  addInteraction(split, user, item);
  times_[static_cast<int>(split)].push_back(time);
}

std::int32_t DatasetBuilder::relation(std::string_view name) {
  auto it = relation_by_name_.find(std::string(name));
  if (it != relation_by_name_.end()) return it->second;
  const auto k = static_cast<std::int32_t>(relation_names_.size());
  relation_names_.emplace_back(name);
  relation_by_name_.emplace(std::string(name), k);
  return k;
}

void DatasetBuilder::addTriple(NodeRef head, std::int32_t relation, NodeRef tail) {
  KGREC_CHECK(relation >= 0 && relation < static_cast<std::int32_t>(relation_names_.size()),
              "KG relation {} was not declared with relation()", relation);
  KGREC_CHECK(head.index >= 0 && tail.index >= 0, "negative node index in triple");
  ensureNodes(head.type, head.index + 1);
  ensureNodes(tail.type, tail.index + 1);
  triples_.push_back({head, relation, tail});
}

void DatasetBuilder::setText(NodeType type, std::int64_t index, std::string text) {
  KGREC_CHECK(type != NodeType::kUser, "users carry no text");
  ensureNodes(type, index + 1);
  (type == NodeType::kItem ? item_texts_ : entity_texts_)[index] = std::move(text);
}

void DatasetBuilder::setMetadata(const std::string& key, const std::string& value) {
  metadata_[key] = value;
}

namespace {

// Sorts and deduplicates one split; with times (aligned, or empty) a repeated pair keeps its
// earliest time. Returns the number of pairs merged.
std::int64_t sortUnique(std::vector<Interaction>* v, std::vector<std::int64_t>* times) {
  const std::size_t before = v->size();
  if (times->empty()) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
    return static_cast<std::int64_t>(before - v->size());
  }
  std::vector<std::size_t> order(before);
  for (std::size_t k = 0; k < before; ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return (*v)[a] == (*v)[b] ? (*times)[a] < (*times)[b] : (*v)[a] < (*v)[b];
  });
  std::vector<Interaction> pairs;
  std::vector<std::int64_t> first_times;
  for (std::size_t k : order) {
    if (!pairs.empty() && pairs.back() == (*v)[k]) continue;
    pairs.push_back((*v)[k]);
    first_times.push_back((*times)[k]);
  }
  *v = std::move(pairs);
  *times = std::move(first_times);
  return static_cast<std::int64_t>(before - v->size());
}

}  // namespace

Dataset DatasetBuilder::build(BuildReport* report) {
  BuildReport local_report;
  BuildReport& rep = report ? *report : local_report;
  rep = BuildReport{};

  Dataset d;
  d.name = name_;
  d.nodes.num_users = users_.count;
  d.nodes.num_items = items_.count;
  d.nodes.num_entities = entities_.count;
  KGREC_CHECK(d.nodes.numNodes() <= INT32_MAX, "{} nodes exceed 2^31-1", d.nodes.numNodes());
  d.metadata = metadata_;

  auto originalIds = [](const TypeIds& t) {
    std::vector<std::string> out(t.count);
    for (std::int64_t i = 0; i < t.count; ++i) {
      out[i] = (static_cast<std::size_t>(i) < t.names.size() && !t.names[i].empty())
                   ? t.names[i]
                   : std::to_string(i);
    }
    return out;
  };
  d.user_ids = originalIds(users_);
  d.item_ids = originalIds(items_);
  d.entity_ids = originalIds(entities_);

  d.item_texts.assign(items_.count, std::string());
  for (auto& [i, text] : item_texts_) d.item_texts[i] = std::move(text);
  d.entity_texts.assign(entities_.count, std::string());
  for (auto& [e, text] : entity_texts_) d.entity_texts[e] = std::move(text);

  const bool timed = !times_[0].empty() || !times_[1].empty() || !times_[2].empty();
  for (int s = 0; s < 3; ++s) {
    KGREC_CHECK(!timed || times_[s].size() == splits_[s].size(),
                "{} of {} interactions of split {} have a time: give all a time or none",
                times_[s].size(), splits_[s].size(), s);
  }
  d.train = std::move(splits_[0]);
  d.valid = std::move(splits_[1]);
  d.test = std::move(splits_[2]);
  d.train_times = std::move(times_[0]);
  d.valid_times = std::move(times_[1]);
  d.test_times = std::move(times_[2]);
  rep.duplicate_interactions = sortUnique(&d.train, &d.train_times) +
                               sortUnique(&d.valid, &d.valid_times) +
                               sortUnique(&d.test, &d.test_times);
  for (const auto* eval : {&d.valid, &d.test}) {
    for (const Interaction& x : *eval) {
      if (std::binary_search(d.train.begin(), d.train.end(), x)) ++rep.eval_pairs_in_train;
    }
  }
  {
    std::vector<char> user_seen(d.nodes.num_users, 0), item_seen(d.nodes.num_items, 0);
    for (const Interaction& x : d.train) user_seen[x.user] = item_seen[x.item] = 1;
    rep.users_without_train = std::count(user_seen.begin(), user_seen.end(), 0);
    rep.items_without_train = std::count(item_seen.begin(), item_seen.end(), 0);
  }

  d.relation_names = {"interacts", "interacted_by"};
  for (const std::string& r : relation_names_) {
    d.relation_names.push_back(r);
    d.relation_names.push_back(r + "_reverse");
  }

  d.triples.reserve(triples_.size());
  for (const PendingTriple& t : triples_) {
    d.triples.push_back({static_cast<std::int32_t>(d.nodes.globalId(t.head.type, t.head.index)),
                         t.relation,
                         static_cast<std::int32_t>(d.nodes.globalId(t.tail.type, t.tail.index))});
  }
  triples_.clear();
  auto key = [](const Triple& t) { return std::tie(t.head, t.relation, t.tail); };
  std::sort(d.triples.begin(), d.triples.end(),
            [&](const Triple& a, const Triple& b) { return key(a) < key(b); });
  const std::size_t before = d.triples.size();
  d.triples.erase(std::unique(d.triples.begin(), d.triples.end(),
                              [&](const Triple& a, const Triple& b) { return key(a) == key(b); }),
                  d.triples.end());
  rep.duplicate_triples = static_cast<std::int64_t>(before - d.triples.size());

  // CSR of in-edges in four steps: count, prefix sum, fill, sort rows.
  const std::int64_t n = d.nodes.numNodes();
  const auto item0 = static_cast<std::int32_t>(d.nodes.begin(NodeType::kItem));
  Csr& g = d.graph;
  g.indptr.assign(n + 1, 0);
  for (const Interaction& x : d.train) {
    ++g.indptr[item0 + x.item + 1];
    ++g.indptr[x.user + 1];
  }
  for (const Triple& t : d.triples) {
    ++g.indptr[t.tail + 1];
    ++g.indptr[t.head + 1];
  }
  for (std::int64_t v = 0; v < n; ++v) g.indptr[v + 1] += g.indptr[v];
  g.indices.resize(g.indptr[n]);
  g.relations.resize(g.indptr[n]);
  std::vector<std::int64_t> cursor(g.indptr.begin(), g.indptr.end() - 1);
  auto put = [&](std::int32_t src, std::int32_t dst, std::int32_t rel) {
    const std::int64_t at = cursor[dst]++;
    g.indices[at] = src;
    g.relations[at] = rel;
  };
  for (const Interaction& x : d.train) {
    put(x.user, item0 + x.item, kRelInteract);
    put(item0 + x.item, x.user, kRelInteractReverse);
  }
  for (const Triple& t : d.triples) {
    put(t.head, t.tail, kgForwardRelation(t.relation));
    put(t.tail, t.head, kgReverseRelation(t.relation));
  }
  std::vector<std::pair<std::int32_t, std::int32_t>> row;
  for (std::int64_t v = 0; v < n; ++v) {
    const std::int64_t lo = g.indptr[v], hi = g.indptr[v + 1];
    row.clear();
    for (std::int64_t e = lo; e < hi; ++e) row.emplace_back(g.indices[e], g.relations[e]);
    std::sort(row.begin(), row.end());
    for (std::int64_t e = lo; e < hi; ++e) {
      g.indices[e] = row[e - lo].first;
      g.relations[e] = row[e - lo].second;
    }
  }
  return d;
}

}  // namespace kgrec
