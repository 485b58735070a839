#include "engine/graph/synthetic.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "engine/common/error.h"
#include "engine/common/random.h"
#include "engine/graph/dataset_builder.h"

// Bit-for-bit reproducibility: the generator uses kgrec's fixed PRNG and only integer
// arithmetic and + - * / sqrt on doubles, which IEEE 754 rounds exactly (no pow/log/exp,
// whose last bit differs between math libraries).

namespace kgrec {
namespace {

template <class T>
void shuffle(SplitMix64& rng, std::vector<T>* v) {
  for (std::size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[rng.below(i)]);
}

// One independent stream per generation phase, so that changing one phase (say, the texts)
// leaves the others' output unchanged.
enum Stream : std::uint64_t { kStreamLayout = 1, kStreamInteractions, kStreamKg, kStreamText };

// Members sampled with Zipf weights 1 / (rank + 1) by insertion order: popularity follows a
// power law, and inserting in random order makes the popular members random ones.
class ZipfPool {
 public:
  void add(std::int32_t member) {
    members_.push_back(member);
    total_ += 1.0 / static_cast<double>(members_.size());
    cdf_.push_back(total_);
  }
  bool empty() const { return members_.empty(); }
  std::int32_t sample(SplitMix64& rng) const {
    const double x = rng.uniform() * total_;
    const auto at = std::upper_bound(cdf_.begin(), cdf_.end(), x) - cdf_.begin();
    return members_[std::min<std::size_t>(at, members_.size() - 1)];
  }

 private:
  std::vector<std::int32_t> members_;
  std::vector<double> cdf_;
  double total_ = 0.0;
};

// Deals n nodes at random into `groups` groups of equal size (+-1); group_of receives each
// node's group.
std::vector<ZipfPool> dealIntoGroups(std::int64_t n, std::int64_t groups, SplitMix64& rng,
                                     std::vector<std::int32_t>* group_of) {
  std::vector<std::int32_t> order(n);
  for (std::int64_t i = 0; i < n; ++i) order[i] = static_cast<std::int32_t>(i);
  shuffle(rng, &order);
  std::vector<ZipfPool> pools(groups);
  group_of->assign(n, 0);
  for (std::int64_t k = 0; k < n; ++k) {
    const auto g = static_cast<std::int32_t>(k % groups);
    (*group_of)[order[k]] = g;
    pools[g].add(order[k]);
  }
  return pools;
}

constexpr std::array<const char*, 32> kSyllables = {
    "ka",  "lo", "mi",  "ra", "ven", "dor", "sil", "tha", "nu",  "pe", "qua",
    "ri",  "so", "tum", "vi", "xa",  "zel", "bro", "cor", "dri", "el", "fen",
    "gal", "hy", "is",  "jo", "kes", "lun", "mar", "nox", "or",  "ply"};

// Pseudo-words from syllables; word ids are scrambled by an odd multiplier (a bijection modulo
// a power of two), so that distinct ids give distinct words that do not look sequential.
class Vocabulary {
 public:
  Vocabulary(std::int64_t size, std::uint64_t seed) {
    std::uint64_t space = kSyllables.size();
    int length = 1;
    while (length < 2 || space < static_cast<std::uint64_t>(size)) {
      space *= kSyllables.size();
      ++length;
    }
    words_.reserve(size);
    for (std::int64_t id = 0; id < size; ++id) {
      std::uint64_t code = (static_cast<std::uint64_t>(id) * 0x9e3779b1ULL + seed) % space;
      std::string word;
      for (int s = 0; s < length; ++s) {
        word += kSyllables[code % kSyllables.size()];
        code /= kSyllables.size();
      }
      words_.push_back(std::move(word));
    }
  }
  const std::string& operator[](std::int64_t id) const { return words_[id]; }

 private:
  std::vector<std::string> words_;
};

constexpr std::int64_t kCommunityWords = 16;  // characteristic words of each community
constexpr std::int64_t kSharedWords = 64;     // words used by every community
constexpr double kCommunityWordShare = 0.7;   // of the words in an item text
constexpr int kDrawRounds = 8;                // top-up rounds to reach distinct items
const char* const kRelationNames[] = {"genre",     "tag",      "creator", "series",
                                      "publisher", "language", "country", "award"};

void checkOptions(const SyntheticOptions& o) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw ConfigError("synthetic dataset: " + what);
  };
  require(o.users >= 1, fmt::format("users must be >= 1, got {}", o.users));
  require(o.communities >= 1, fmt::format("communities must be >= 1, got {}", o.communities));
  require(o.items >= o.communities,
          fmt::format("items ({}) must be >= communities ({})", o.items, o.communities));
  require(o.entities >= 0, fmt::format("entities must be >= 0, got {}", o.entities));
  require(o.kg_relations >= 0, fmt::format("kg_relations must be >= 0, got {}", o.kg_relations));
  require(o.users + o.items + o.entities <= INT32_MAX, "more than 2^31-1 nodes");
  require(o.interactions_per_user >= 1.0,
          fmt::format("interactions_per_user must be >= 1, got {}", o.interactions_per_user));
  require(o.community_affinity >= 0.0 && o.community_affinity <= 1.0,
          fmt::format("community_affinity must be in [0, 1], got {}", o.community_affinity));
  require(o.triples_per_item >= 0.0 && o.entity_triples_per_entity >= 0.0,
          "triples_per_item and entity_triples_per_entity must be >= 0");
  require(
      o.test_fraction >= 0.0 && o.valid_fraction >= 0.0 && o.test_fraction + o.valid_fraction < 1.0,
      fmt::format("test_fraction ({}) and valid_fraction ({}) must be >= 0 and sum to < 1",
                  o.test_fraction, o.valid_fraction));
}

// Number of a user's n interactions that go to an evaluation split: at least one when the
// fraction is positive.
std::int64_t evalCount(double fraction, std::int64_t n) {
  if (fraction <= 0.0) return 0;
  return std::max<std::int64_t>(1,
                                static_cast<std::int64_t>(fraction * static_cast<double>(n) + 0.5));
}

void setOptionMetadata(const SyntheticOptions& o, DatasetBuilder* b) {
  b->setMetadata("generator", "kgrec synthetic");
  b->setMetadata("seed", std::to_string(o.seed));
  const std::pair<const char*, std::string> options[] = {
      {"users", std::to_string(o.users)},
      {"items", std::to_string(o.items)},
      {"entities", std::to_string(o.entities)},
      {"communities", std::to_string(o.communities)},
      {"interactions_per_user", fmt::format("{}", o.interactions_per_user)},
      {"community_affinity", fmt::format("{}", o.community_affinity)},
      {"kg_relations", std::to_string(o.kg_relations)},
      {"triples_per_item", fmt::format("{}", o.triples_per_item)},
      {"entity_triples_per_entity", fmt::format("{}", o.entity_triples_per_entity)},
      {"test_fraction", fmt::format("{}", o.test_fraction)},
      {"valid_fraction", fmt::format("{}", o.valid_fraction)},
  };
  for (const auto& [key, value] : options) b->setMetadata(std::string("synthetic.") + key, value);
}

}  // namespace

Dataset generateSynthetic(const SyntheticOptions& o, std::vector<std::int32_t>* communities) {
  checkOptions(o);
  const std::int32_t num_communities = o.communities;
  const std::int32_t num_relations = o.kg_relations;

  DatasetBuilder b("synthetic");
  b.ensureNodes(NodeType::kUser, o.users);
  b.ensureNodes(NodeType::kItem, o.items);
  b.ensureNodes(NodeType::kEntity, o.entities);
  setOptionMetadata(o, &b);
  std::vector<std::string> relation_names;
  for (std::int32_t k = 0; k < num_relations; ++k) {
    relation_names.push_back(k < static_cast<std::int32_t>(std::size(kRelationNames))
                                 ? std::string(kRelationNames[k])
                                 : fmt::format("relation_{}", k));
    b.relation(relation_names.back());
  }

  // Layout: users and items dealt into communities; entities into (community, relation) groups,
  // group g = community * kinds + relation, so that every relation gets entities first when
  // there are few. Without KG relations, entities still get communities (and texts).
  SplitMix64 layout(mixSeed(o.seed, kStreamLayout));
  std::vector<std::int32_t> user_community, item_community, entity_group;
  dealIntoGroups(o.users, num_communities, layout, &user_community);
  const std::vector<ZipfPool> item_pools =
      dealIntoGroups(o.items, num_communities, layout, &item_community);
  const std::int32_t entity_kinds = std::max(1, num_relations);
  const std::vector<ZipfPool> entity_pools = dealIntoGroups(
      o.entities, std::int64_t{num_communities} * entity_kinds, layout, &entity_group);
  auto entityCommunity = [&](std::int64_t e) { return entity_group[e] / entity_kinds; };
  auto entityKind = [&](std::int64_t e) { return entity_group[e] % entity_kinds; };
  // All entities of one relation, for the triples that leave their community.
  std::vector<ZipfPool> relation_pools(entity_kinds);
  for (std::int64_t e = 0; e < o.entities; ++e) {
    relation_pools[entityKind(e)].add(static_cast<std::int32_t>(e));
  }
  auto otherCommunity = [&](std::int32_t c, SplitMix64& rng) {
    return static_cast<std::int32_t>((c + 1 + rng.below(num_communities - 1)) % num_communities);
  };

  // Interactions: a Lomax (Pareto II, shape 2) number of distinct items per user, by Zipf
  // popularity; each slot stays in the user's community with probability community_affinity.
  // When a community runs out of distinct items for a heavy user, the out-of-community share
  // shrinks with it, so that the in-community fraction stays at the affinity.
  SplitMix64 draw(mixSeed(o.seed, kStreamInteractions));
  const double scale = o.interactions_per_user - 0.5;  // 1 + floor(Lomax) has mean ~ scale + 0.5
  const double max_degree = static_cast<double>(std::max<std::int64_t>(1, o.items / 2));
  // Appends draws to *out until it holds `target` distinct items or the rounds run out.
  auto drawDistinct = [&](std::vector<std::int32_t>* out, std::size_t target, auto&& sample) {
    for (int round = 0; round < kDrawRounds && out->size() < target; ++round) {
      while (out->size() < target) out->push_back(sample());
      std::sort(out->begin(), out->end());
      out->erase(std::unique(out->begin(), out->end()), out->end());
    }
  };
  std::vector<std::int32_t> picked, outside;
  for (std::int64_t u = 0; u < o.users; ++u) {
    const double lomax = scale * (1.0 / std::sqrt(1.0 - draw.uniform()) - 1.0);
    const auto target = static_cast<std::size_t>(1.0 + std::min(lomax, max_degree - 1.0));
    std::size_t inside_target = target;
    if (num_communities > 1) {
      inside_target = 0;
      for (std::size_t k = 0; k < target; ++k)
        inside_target += draw.uniform() < o.community_affinity;
    }
    const std::int32_t c = user_community[u];
    picked.clear();
    drawDistinct(&picked, inside_target, [&] { return item_pools[c].sample(draw); });
    std::size_t outside_target = target - inside_target;
    // The community ran dry: shrink the outside share with it.
    if (picked.size() < inside_target)
      outside_target = outside_target * picked.size() / inside_target;
    outside.clear();
    drawDistinct(&outside, outside_target,
                 [&] { return item_pools[otherCommunity(c, draw)].sample(draw); });
    picked.insert(picked.end(), outside.begin(), outside.end());
    shuffle(draw, &picked);
    const auto n = static_cast<std::int64_t>(picked.size());
    const std::int64_t n_test = n >= 2 ? std::min(evalCount(o.test_fraction, n), n - 1) : 0;
    const std::int64_t n_valid = std::min(evalCount(o.valid_fraction, n), n - 1 - n_test);
    for (std::int64_t k = 0; k < n; ++k) {
      const Split split = k < n_test             ? Split::kTest
                          : k < n_test + n_valid ? Split::kValid
                                                 : Split::kTrain;
      b.addInteraction(split, u, picked[k]);
    }
  }

  // KG: items point at entities of their community (mostly), plus entity -> entity triples.
  SplitMix64 kg(mixSeed(o.seed, kStreamKg));
  auto drawEntity = [&](std::int32_t community, std::int32_t r) -> std::int64_t {
    const ZipfPool& local = entity_pools[community * entity_kinds + r];
    if (!local.empty() && kg.uniform() < o.community_affinity) return local.sample(kg);
    return relation_pools[r].empty() ? -1 : relation_pools[r].sample(kg);
  };
  if (num_relations > 0 && o.entities > 0) {
    for (std::int64_t i = 0; i < o.items; ++i) {
      const auto count = static_cast<std::int64_t>(kg.uniform() * (2.0 * o.triples_per_item + 1.0));
      for (std::int64_t t = 0; t < count; ++t) {
        const auto r = static_cast<std::int32_t>(kg.below(num_relations));
        const std::int64_t e = drawEntity(item_community[i], r);
        if (e >= 0) b.addTriple({NodeType::kItem, i}, r, {NodeType::kEntity, e});
      }
    }
    const auto entity_triples = static_cast<std::int64_t>(
        o.entity_triples_per_entity * static_cast<double>(o.entities) + 0.5);
    for (std::int64_t t = 0; t < entity_triples; ++t) {
      const auto head = static_cast<std::int64_t>(kg.below(o.entities));
      const auto r = static_cast<std::int32_t>(kg.below(num_relations));
      const std::int64_t tail = drawEntity(entityCommunity(head), r);
      if (tail >= 0 && tail != head)
        b.addTriple({NodeType::kEntity, head}, r, {NodeType::kEntity, tail});
    }
  }

  // Texts: community words carry the community signal, shared words are noise.
  SplitMix64 text(mixSeed(o.seed, kStreamText));
  const Vocabulary vocabulary(num_communities * kCommunityWords + kSharedWords, o.seed);
  auto appendWord = [&](std::int32_t community, double community_share, std::string* out) {
    const std::int64_t id =
        text.uniform() < community_share
            ? community * kCommunityWords + static_cast<std::int64_t>(text.below(kCommunityWords))
            : num_communities * kCommunityWords +
                  static_cast<std::int64_t>(text.below(kSharedWords));
    *out += ' ';
    *out += vocabulary[id];
  };
  for (std::int64_t i = 0; i < o.items; ++i) {
    std::string s = fmt::format("item {}:", i);
    const auto words = 4 + static_cast<int>(text.below(4));
    for (int w = 0; w < words; ++w) appendWord(item_community[i], kCommunityWordShare, &s);
    b.setText(NodeType::kItem, i, std::move(s));
  }
  for (std::int64_t e = 0; e < o.entities; ++e) {
    std::string s = num_relations > 0 ? relation_names[entityKind(e)] : std::string("entity");
    for (int w = 0; w < 2; ++w) appendWord(entityCommunity(e), 1.0, &s);
    b.setText(NodeType::kEntity, e, std::move(s));
  }

  if (communities) {
    communities->clear();
    communities->reserve(o.users + o.items + o.entities);
    communities->insert(communities->end(), user_community.begin(), user_community.end());
    communities->insert(communities->end(), item_community.begin(), item_community.end());
    for (std::int64_t e = 0; e < o.entities; ++e) communities->push_back(entityCommunity(e));
  }
  return b.build();
}

std::vector<std::string> syntheticWordPieceVocabulary() {
  std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                                     ":",     "_",     "item",  "entity", "relation"};
  for (const char* name : kRelationNames) tokens.emplace_back(name);
  for (char digit = '0'; digit <= '9'; ++digit) {
    tokens.emplace_back(1, digit);
    tokens.push_back(std::string("##") + digit);
  }
  for (const char* syllable : kSyllables) {
    tokens.emplace_back(syllable);
    tokens.push_back(std::string("##") + syllable);
  }
  return tokens;
}

}  // namespace kgrec
