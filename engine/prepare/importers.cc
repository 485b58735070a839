#include "engine/prepare/importers.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <tuple>
#include <utility>

#include "engine/common/error.h"
#include "engine/common/random.h"
#include "engine/prepare/import_internal.h"

namespace kgrec {

using namespace import_internal;

namespace import_internal {

NodeIds::NodeIds(DatasetBuilder* builder, NodeType type, bool numeric)
    : builder_(builder),
      type_(type),
      numeric_(numeric),
      what_(std::string(nodeTypeName(type)) + " id") {}

std::int64_t NodeIds::add(const LineReader& reader, std::string_view id) {
  if (!numeric_) return intern(id);
  const std::int64_t index = parseInt(reader, id, what(), 0, max_);
  builder_->ensureNodes(type_, index + 1);
  return index;
}

std::int64_t NodeIds::intern(std::string_view id) {
  KGREC_ASSERT(!numeric_);
  auto [it, inserted] = by_name_.try_emplace(std::string(id), 0);
  if (inserted) it->second = builder_->intern(type_, id);
  return it->second;
}

std::int64_t NodeIds::find(const LineReader& reader, std::string_view id) const {
  if (numeric_) {
    const std::int64_t index = parseInt(reader, id, what(), 0, kMaxIndex);
    return index < builder_->count(type_) ? index : -1;
  }
  auto it = by_name_.find(std::string(id));
  return it == by_name_.end() ? -1 : it->second;
}

void splitOn(std::string_view line, std::string_view separator,
             std::vector<std::string_view>* fields) {
  fields->clear();
  std::size_t start = 0;
  while (true) {
    const std::size_t end = line.find(separator, start);
    fields->push_back(line.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + separator.size();
  }
  while (fields->size() > 1 && fields->back().empty()) fields->pop_back();
}

}  // namespace import_internal

namespace {

constexpr std::pair<InputFormat, const char*> kFormatNames[] = {
    {InputFormat::kLightGcn, "lightgcn"},
    {InputFormat::kPairs, "pairs"},
    {InputFormat::kMovieLens, "movielens"},
    {InputFormat::kTsv, "tsv"},
};

bool numericIds(InputFormat format) {
  return format == InputFormat::kLightGcn || format == InputFormat::kPairs;
}

void validateOptions(const ImportOptions& o) {
  const char* name = inputFormatName(o.format);
  if (o.format == InputFormat::kMovieLens) {
    if (o.movielens_dir.empty()) throw ConfigError("format movielens needs a MovieLens folder");
    if (!o.train.empty() || !o.test.empty() || !o.valid.empty() || !o.kg.empty()) {
      throw ConfigError("format movielens reads its ratings and derives its KG from the "
                        "MovieLens folder; do not give interaction or KG files with it");
    }
  } else {
    if (!o.movielens_dir.empty()) {
      throw ConfigError(fmt::format("a MovieLens folder needs format movielens, not {}", name));
    }
    if (!o.movielens_kg) {
      throw ConfigError(fmt::format("--no-kg drops the KG that format movielens derives; with "
                                    "format {}, leave out --kg instead", name));
    }
    if (o.train.empty()) throw ConfigError(fmt::format("format {} needs a training file", name));
    if (o.test.empty() && numericIds(o.format)) {
      throw ConfigError(fmt::format("format {} needs a test file (use tsv or movielens for a "
                                    "random split)", name));
    }
  }
  if (!(o.test_fraction > 0.0 && o.test_fraction < 1.0)) {
    throw ConfigError(fmt::format("test fraction {} must lie strictly between 0 and 1",
                                  o.test_fraction));
  }
  if (o.min_rating != 0.0 && numericIds(o.format)) {
    throw ConfigError(fmt::format("format {} carries no ratings; min rating applies to "
                                  "movielens and tsv", name));
  }
  if (o.kg_items < -1) throw ConfigError(fmt::format("kg items {} is negative", o.kg_items));
  if (o.kg_items >= 0 && (o.kg.empty() || !numericIds(o.format))) {
    throw ConfigError("kg items applies to a numeric KG file with format lightgcn or pairs");
  }
}

// The last path component of a folder, also for "dir/" and ".".
std::string folderName(const std::filesystem::path& dir) {
  std::filesystem::path p = std::filesystem::absolute(dir).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}

std::string defaultName(const ImportOptions& o) {
  if (o.format == InputFormat::kMovieLens) return folderName(o.movielens_dir);
  return folderName(std::filesystem::absolute(o.train).parent_path());
}

// Appends the interactions of one file to `out`.
void readInteractions(const std::string& path, const ImportOptions& o, NodeIdSet* ids,
                      std::vector<Interaction>* out) {
  LineReader reader(path);
  std::vector<std::string_view> f;
  auto add = [&](std::string_view user, std::string_view item) {
    out->push_back({static_cast<std::int32_t>(ids->users.add(reader, user)),
                    static_cast<std::int32_t>(ids->items.add(reader, item))});
  };
  forEachLine(reader, [&](std::string_view line) {
    switch (o.format) {
      case InputFormat::kLightGcn: {
        splitFields(line, " \t", &f);
        const std::int64_t user = ids->users.add(reader, f[0]);
        for (std::size_t k = 1; k < f.size(); ++k) {
          out->push_back({static_cast<std::int32_t>(user),
                          static_cast<std::int32_t>(ids->items.add(reader, f[k]))});
        }
        break;
      }
      case InputFormat::kPairs:
        splitFields(line, " \t", &f);
        if (f.size() < 2) {
          reader.fail(fmt::format("expected 'user item [...]', found {} field", f.size()));
        }
        add(f[0], f[1]);
        break;
      case InputFormat::kTsv:
        if (isHeader(reader, line)) return;
        splitExact(line, '\t', &f);
        if (f.size() < 2 || f.size() > 3 || f[0].empty() || f[1].empty()) {
          reader.fail(fmt::format("expected 'user<TAB>item[<TAB>rating]', found {} field(s)",
                                  f.size()));
        }
        if (f.size() == 3 && parseDouble(reader, f[2], "rating") < o.min_rating) return;
        add(f[0], f[1]);
        break;
      case InputFormat::kMovieLens:
        KGREC_ASSERT(false);
    }
  });
}

// Splits each user's distinct items into train and test. Each user draws from its own stream
// (seed mixed with the user index), so one user's split does not depend on the others'.
// Repeated pairs stay together in one split, where the builder merges and counts them.
void splitPerUser(std::vector<Interaction> pool, double test_fraction, std::uint64_t seed,
                  DatasetBuilder* builder) {
  std::sort(pool.begin(), pool.end());
  std::vector<std::int32_t> items;
  std::vector<char> is_test;
  for (std::size_t lo = 0, hi = 0; lo < pool.size(); lo = hi) {
    const std::int32_t user = pool[lo].user;
    items.clear();
    for (hi = lo; hi < pool.size() && pool[hi].user == user; ++hi) {
      if (items.empty() || items.back() != pool[hi].item) items.push_back(pool[hi].item);
    }
    const auto n = static_cast<std::int64_t>(items.size());
    const std::int64_t n_test =
        n < 2 ? 0 : std::clamp<std::int64_t>(std::llround(test_fraction * n), 1, n - 1);
    // Partial Fisher-Yates over positions: the first n_test drawn go to test.
    std::vector<std::int64_t> order(n);
    for (std::int64_t k = 0; k < n; ++k) order[k] = k;
    SplitMix64 rng(mixSeed(seed, static_cast<std::uint64_t>(user)));
    is_test.assign(n, 0);
    for (std::int64_t k = 0; k < n_test; ++k) {
      std::swap(order[k], order[k + static_cast<std::int64_t>(rng.below(n - k))]);
      is_test[order[k]] = 1;
    }
    for (std::size_t e = lo, pos = 0; e < hi; ++e) {
      if (pool[e].item != items[pos]) ++pos;
      builder->addInteraction(is_test[pos] ? Split::kTest : Split::kTrain, user, pool[e].item);
    }
  }
}

// KGAT-style numeric KG: id e is item e when e < kg_items, else entity e - kg_items.
// Triples are buffered so that entities can be created in id order, keeping their KG ids as
// original ids.
void readNumericKg(const std::string& path, std::int64_t kg_items, NodeIdSet* ids,
                   DatasetBuilder* builder) {
  LineReader reader(path);
  struct Raw {
    std::int64_t head, relation, tail;
  };
  std::vector<Raw> raw;
  std::vector<std::string_view> f;
  std::int64_t max_id = kg_items - 1;
  forEachLine(reader, [&](std::string_view line) {
    splitFields(line, " \t", &f);
    if (f.size() != 3) {
      reader.fail(fmt::format("expected 'head relation tail', found {} field(s)", f.size()));
    }
    const Raw t{parseInt(reader, f[0], "KG head id", 0, kMaxIndex),
                parseInt(reader, f[1], "KG relation id", 0, kMaxIndex),
                parseInt(reader, f[2], "KG tail id", 0, kMaxIndex)};
    if (std::max(t.head, t.tail) - kg_items >= kMaxIndex) {
      reader.fail(fmt::format("KG id {} is too large", std::max(t.head, t.tail)));
    }
    max_id = std::max({max_id, t.head, t.tail});
    raw.push_back(t);
  });
  builder->ensureNodes(NodeType::kItem, kg_items);
  for (std::int64_t e = kg_items; e <= max_id; ++e) ids->entities.intern(std::to_string(e));
  auto node = [&](std::int64_t id) {
    return id < kg_items ? NodeRef{NodeType::kItem, id} : NodeRef{NodeType::kEntity, id - kg_items};
  };
  for (const Raw& t : raw) {
    builder->addTriple(node(t.head), builder->relation("r" + std::to_string(t.relation)),
                       node(t.tail));
  }
}

// TSV KG with string ids: a known item id is that item, anything else an entity.
void readStringKg(const std::string& path, NodeIdSet* ids, DatasetBuilder* builder) {
  LineReader reader(path);
  std::vector<std::string_view> f;
  auto node = [&](std::string_view id) {
    const std::int64_t item = ids->items.find(reader, id);
    return item >= 0 ? NodeRef{NodeType::kItem, item}
                     : NodeRef{NodeType::kEntity, ids->entities.intern(id)};
  };
  forEachLine(reader, [&](std::string_view line) {
    if (isHeader(reader, line)) return;
    splitExact(line, '\t', &f);
    if (f.size() != 3 || f[0].empty() || f[1].empty() || f[2].empty()) {
      reader.fail(fmt::format("expected 'head<TAB>relation<TAB>tail', found {} field(s)",
                              f.size()));
    }
    const bool numeric_relation = f[1].find_first_not_of("0123456789") == std::string_view::npos;
    const std::int32_t relation =
        builder->relation(numeric_relation ? "r" + std::string(f[1]) : std::string(f[1]));
    builder->addTriple(node(f[0]), relation, node(f[2]));
  });
}

// "id<TAB>text" for existing nodes.
void readTexts(const std::string& path, const NodeIds& ids, DatasetBuilder* builder) {
  LineReader reader(path);
  forEachLine(reader, [&](std::string_view line) {
    if (isHeader(reader, line)) return;
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos || tab == 0) {
      reader.fail(fmt::format("expected '{}<TAB>text'", ids.what()));
    }
    const std::string_view id = line.substr(0, tab), text = line.substr(tab + 1);
    const std::int64_t index = ids.find(reader, id);
    if (index < 0) {
      reader.fail(fmt::format("unknown {} '{}': it occurs in no interaction or KG file",
                              ids.what(), id));
    }
    if (!isValidUtf8(text)) {
      reader.fail("text is not UTF-8; convert it (e.g. iconv -f LATIN1 -t UTF-8)");
    }
    builder->setText(ids.type(), index, std::string(text));
  });
}

}  // namespace

InputFormat parseInputFormat(const std::string& name) {
  for (const auto& [format, format_name] : kFormatNames) {
    if (name == format_name) return format;
  }
  throw ConfigError(fmt::format("unknown input format '{}' (expected lightgcn, pairs, "
                                "movielens or tsv)", name));
}

const char* inputFormatName(InputFormat format) {
  for (const auto& [f, format_name] : kFormatNames) {
    if (f == format) return format_name;
  }
  return "?";
}

Dataset importDataset(const ImportOptions& o, BuildReport* report) {
  validateOptions(o);
  DatasetBuilder builder(o.name.empty() ? defaultName(o) : o.name);
  const bool numeric = numericIds(o.format);
  NodeIdSet ids{NodeIds(&builder, NodeType::kUser, numeric),
                NodeIds(&builder, NodeType::kItem, numeric),
                NodeIds(&builder, NodeType::kEntity, false)};
  // A given kg_items bounds the item ids: larger ones would not be the KG's items.
  if (o.kg_items >= 0) ids.items.setMaxIndex(o.kg_items - 1);

  const bool random_split = o.test.empty();
  std::vector<Interaction> train;
  if (o.format == InputFormat::kMovieLens) {
    readMovieLens(o, &ids, &builder, &train);
  } else {
    readInteractions(o.train, o, &ids, &train);
    builder.setMetadata("source.train", o.train);
    for (auto [path, split, key] : {std::tuple{&o.test, Split::kTest, "source.test"},
                                    std::tuple{&o.valid, Split::kValid, "source.valid"}}) {
      if (path->empty()) continue;
      std::vector<Interaction> pairs;
      readInteractions(*path, o, &ids, &pairs);
      for (const Interaction& x : pairs) builder.addInteraction(split, x.user, x.item);
      builder.setMetadata(key, *path);
    }
  }
  if (random_split) {
    splitPerUser(std::move(train), o.test_fraction, o.seed, &builder);
    builder.setMetadata("split", fmt::format("random per user, test fraction {}, seed {}",
                                             o.test_fraction, o.seed));
  } else {
    for (const Interaction& x : train) builder.addInteraction(Split::kTrain, x.user, x.item);
    builder.setMetadata("split", "from files");
  }

  if (!o.kg.empty()) {
    if (numeric) {
      const std::int64_t kg_items = o.kg_items >= 0 ? o.kg_items : builder.count(NodeType::kItem);
      readNumericKg(o.kg, kg_items, &ids, &builder);
      builder.setMetadata("option.kg_items", std::to_string(kg_items));
    } else {
      readStringKg(o.kg, &ids, &builder);
    }
    builder.setMetadata("source.kg", o.kg);
  }
  if (!o.text.empty()) {
    readTexts(o.text, ids.items, &builder);
    builder.setMetadata("source.text", o.text);
  }
  if (!o.entity_text.empty()) {
    readTexts(o.entity_text, ids.entities, &builder);
    builder.setMetadata("source.entity_text", o.entity_text);
  }
  builder.setMetadata("importer", inputFormatName(o.format));
  if (!numeric) builder.setMetadata("option.min_rating", fmt::format("{}", o.min_rating));
  return builder.build(report);
}

}  // namespace kgrec
