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
  ++occurrences_;
  if (index > largest_) {
    largest_ = index;
    largest_path_ = reader.path();
    largest_line_ = reader.lineNumber();
  }
  builder_->ensureNodes(type_, index + 1);
  return index;
}

void NodeIds::checkDense() const {
  if (denseEnough(largest_ + 1, occurrences_)) return;
  throw InputError(largest_path_, largest_line_,
                   fmt::format("{} {} lies far beyond the {} ids read: numeric ids are kept as "
                               "indices, so it would make {} nodes; renumber the ids from 0, or "
                               "use --format tsv or csv, which number ids as they appear",
                               what(), largest_, occurrences_, largest_ + 1));
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

void requireSameTiming(const std::vector<std::pair<std::string, bool>>& files) {
  for (const auto& [path, timed] : files) {
    if (timed == files.front().second) continue;
    throw InputError(path, fmt::format("{} timestamps, but {} {}; give every interaction file a "
                                       "time column or none", timed ? "has" : "has no",
                                       files.front().first,
                                       files.front().second ? "has them" : "has none"));
  }
}

std::string folderName(const std::filesystem::path& dir) {
  std::filesystem::path p = std::filesystem::absolute(dir).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}

}  // namespace import_internal

namespace {

constexpr std::pair<InputFormat, const char*> kFormatNames[] = {
    {InputFormat::kLightGcn, "lightgcn"},
    {InputFormat::kPairs, "pairs"},
    {InputFormat::kMovieLens, "movielens"},
    {InputFormat::kTsv, "tsv"},
    {InputFormat::kCsv, "csv"},
    {InputFormat::kRecBole, "recbole"},
};

constexpr std::pair<SplitMethod, const char*> kSplitNames[] = {
    {SplitMethod::kRandom, "random"},
    {SplitMethod::kTemporalUser, "temporal-user"},
    {SplitMethod::kTemporalGlobal, "temporal-global"},
};

// The value of `name` in a table of (value, name) pairs; ConfigError listing the names otherwise.
template <typename E, std::size_t N>
E fromName(const std::pair<E, const char*> (&table)[N], const std::string& name, const char* what) {
  std::string expected;
  for (const auto& [value, value_name] : table) {
    if (name == value_name) return value;
    expected += (expected.empty() ? "" : ", ") + std::string(value_name);
  }
  throw ConfigError(fmt::format("unknown {} '{}' (expected one of {})", what, name, expected));
}

template <typename E, std::size_t N>
const char* toName(const std::pair<E, const char*> (&table)[N], E value) {
  for (const auto& [v, value_name] : table) {
    if (v == value) return value_name;
  }
  return "?";
}

bool numericIds(InputFormat format) {
  return format == InputFormat::kLightGcn || format == InputFormat::kPairs;
}

// Formats that read one folder (and no --train/--kg files).
bool readsFolder(InputFormat format) {
  return format == InputFormat::kMovieLens || format == InputFormat::kRecBole;
}

void validateOptions(const ImportOptions& o) {
  const char* name = inputFormatName(o.format);
  if (o.format != InputFormat::kMovieLens && !o.movielens_dir.empty()) {
    throw ConfigError(fmt::format("a MovieLens folder needs format movielens, not {}", name));
  }
  if (o.format != InputFormat::kRecBole && (!o.recbole_dir.empty() || !o.recbole_name.empty())) {
    throw ConfigError(fmt::format("a RecBole folder or name needs format recbole, not {}", name));
  }
  if (readsFolder(o.format)) {
    const bool movielens = o.format == InputFormat::kMovieLens;
    if ((movielens ? o.movielens_dir : o.recbole_dir).empty()) {
      throw ConfigError(movielens ? "format movielens needs a MovieLens folder (--movielens-dir)"
                                  : "format recbole needs a RecBole folder (--recbole-dir)");
    }
    if (!o.train.empty() || !o.test.empty() || !o.valid.empty() || !o.kg.empty()) {
      throw ConfigError(fmt::format("format {} reads its interactions and KG from its folder; "
                                    "do not give interaction or KG files with it", name));
    }
  } else {
    if (!o.movielens_kg) {
      throw ConfigError(fmt::format("--no-kg drops the KG that formats movielens and recbole "
                                    "read from their folder; with format {}, leave out --kg "
                                    "instead", name));
    }
    if (o.train.empty()) throw ConfigError(fmt::format("format {} needs a training file", name));
    if (o.test.empty() && numericIds(o.format)) {
      throw ConfigError(fmt::format("format {} needs a test file (use tsv, csv, movielens or "
                                    "recbole for a split by kgrec)", name));
    }
  }
  if (!o.columns.empty() && o.format != InputFormat::kCsv && o.format != InputFormat::kRecBole) {
    throw ConfigError(fmt::format("--columns names the header columns of formats csv and "
                                  "recbole, not {}", name));
  }
  if (!o.delimiter.empty() && o.format != InputFormat::kCsv) {
    throw ConfigError(fmt::format("a delimiter applies to format csv, not {}", name));
  }
  if (!(o.test_fraction > 0.0 && o.test_fraction < 1.0)) {
    throw ConfigError(fmt::format("test fraction {} must lie strictly between 0 and 1",
                                  o.test_fraction));
  }
  if (!(o.valid_fraction >= 0.0 && o.test_fraction + o.valid_fraction < 1.0)) {
    throw ConfigError(fmt::format("valid fraction {} must be >= 0 and leave room for training "
                                  "(test + valid fraction < 1)", o.valid_fraction));
  }
  if (!o.test.empty() && (o.split != SplitMethod::kRandom || o.valid_fraction > 0.0)) {
    throw ConfigError("--split and --valid-fraction split the interactions when there is no "
                      "test file; with --test the files are the split");
  }
  if (!o.valid.empty() && o.valid_fraction > 0.0) {
    throw ConfigError("give either a validation file or --valid-fraction, not both");
  }
  if (o.min_rating != 0.0 && numericIds(o.format)) {
    throw ConfigError(fmt::format("format {} carries no ratings; min rating applies to "
                                  "movielens, tsv, csv and recbole", name));
  }
  if (o.kg_items < -1) throw ConfigError(fmt::format("kg items {} is negative", o.kg_items));
  if (o.kg_items >= 0 && (o.kg.empty() || !numericIds(o.format))) {
    throw ConfigError("kg items applies to a numeric KG file with format lightgcn or pairs");
  }
}

std::string defaultName(const ImportOptions& o) {
  if (o.format == InputFormat::kMovieLens) return folderName(o.movielens_dir);
  if (o.format == InputFormat::kRecBole) {
    return o.recbole_name.empty() ? folderName(o.recbole_dir) : o.recbole_name;
  }
  return folderName(std::filesystem::absolute(o.train).parent_path());
}

// The interactions of one file of format lightgcn, pairs or tsv.
InteractionPool readLineInteractions(const std::string& path, const ImportOptions& o,
                                     NodeIdSet* ids) {
  LineReader reader(path);
  InteractionPool pool;
  pool.source = path;
  bool timing_known = false;  // tsv: whether the file has times, once a line said so
  std::vector<std::string_view> f;
  auto add = [&](std::string_view user, std::string_view item) {
    pool.add(ids->users.add(reader, user), ids->items.add(reader, item));
  };
  forEachLine(reader, [&](std::string_view line) {
    switch (o.format) {
      case InputFormat::kLightGcn: {
        splitFields(line, " \t", &f);
        const std::int64_t user = ids->users.add(reader, f[0]);
        for (std::size_t k = 1; k < f.size(); ++k) pool.add(user, ids->items.add(reader, f[k]));
        break;
      }
      case InputFormat::kPairs:
        splitFields(line, " \t", &f);
        if (f.size() < 2) {
          reader.fail(fmt::format("expected 'user item [...]', found {} field", f.size()));
        }
        add(f[0], f[1]);
        break;
      case InputFormat::kTsv: {
        if (isHeader(reader, line)) return;
        splitExact(line, '\t', &f);
        if (f.size() < 2 || f.size() > 4 || f[0].empty() || f[1].empty()) {
          reader.fail(fmt::format("expected 'user<TAB>item[<TAB>rating[<TAB>timestamp]]', found "
                                  "{} field(s)", f.size()));
        }
        // The first data line decides whether the file has times; then every line has one.
        const bool timed = f.size() == 4;
        if (!timing_known) pool.timed = timed;
        timing_known = true;
        if (timed != pool.timed) {
          reader.fail(pool.timed ? "this line has no timestamp, but earlier lines have one"
                                 : "this line has a timestamp, but earlier lines have none");
        }
        const std::int64_t time = timed ? parseTimestamp(reader, f[3]) : 0;
        if (f.size() >= 3 && parseDouble(reader, f[2], "rating") < o.min_rating) return;
        if (timed) {
          pool.add(ids->users.intern(f[0]), ids->items.intern(f[1]), time);
        } else {
          add(f[0], f[1]);
        }
        break;
      }
      default:
        KGREC_ASSERT(false);
    }
  });
  return pool;
}

// The interactions of one file of a format that reads files (not folders).
InteractionPool readInteractions(const std::string& path, const ImportOptions& o, NodeIdSet* ids) {
  if (o.format != InputFormat::kCsv) return readLineInteractions(path, o, ids);
  CsvReader reader(path, delimiterFromName(o.delimiter));
  InteractionPool pool;
  pool.source = path;
  readDelimitedInteractions(reader, findInteractionColumns(reader, reader.header(), o.columns),
                            o.min_rating, nullptr, ids, &pool);
  return pool;
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
  std::int64_t max_id = kg_items - 1, max_line = 0;
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
    if (std::max(t.head, t.tail) > max_id) {
      max_id = std::max(t.head, t.tail);
      max_line = reader.lineNumber();
    }
    raw.push_back(t);
  });
  // Every KG id from kg_items to the largest becomes an entity.
  if (!denseEnough(max_id - kg_items + 1, 2 * static_cast<std::int64_t>(raw.size()))) {
    throw InputError(path, max_line,
                     fmt::format("KG id {} lies far beyond the {} ids read: KG ids are kept as "
                                 "indices, so it would make {} entities; renumber the KG ids",
                                 max_id, 2 * raw.size(), max_id - kg_items + 1));
  }
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
  return fromName(kFormatNames, name, "input format");
}
const char* inputFormatName(InputFormat format) { return toName(kFormatNames, format); }

SplitMethod parseSplitMethod(const std::string& name) { return fromName(kSplitNames, name, "split"); }
const char* splitMethodName(SplitMethod method) { return toName(kSplitNames, method); }

Dataset importDataset(const ImportOptions& o, BuildReport* report) {
  validateOptions(o);
  DatasetBuilder builder(o.name.empty() ? defaultName(o) : o.name);
  const bool numeric = numericIds(o.format);
  NodeIdSet ids{NodeIds(&builder, NodeType::kUser, numeric),
                NodeIds(&builder, NodeType::kItem, numeric),
                NodeIds(&builder, NodeType::kEntity, false)};
  // A given kg_items bounds the item ids: larger ones would not be the KG's items.
  if (o.kg_items >= 0) ids.items.setMaxIndex(o.kg_items - 1);

  InteractionPool train;
  bool split_from_files = !o.test.empty();
  if (o.format == InputFormat::kMovieLens) {
    readMovieLens(o, &ids, &builder, &train);
  } else if (o.format == InputFormat::kRecBole) {
    split_from_files = readRecBole(o, &ids, &builder, &train);
    if (split_from_files && (o.split != SplitMethod::kRandom || o.valid_fraction > 0.0)) {
      throw ConfigError(fmt::format("{} comes split (.train/.valid/.test.inter files); --split "
                                    "and --valid-fraction apply to a single .inter file",
                                    o.recbole_dir));
    }
  } else {
    train = readInteractions(o.train, o, &ids);
    builder.setMetadata("source.train", o.train);
    std::vector<std::pair<std::string, bool>> timing{{o.train, train.timed}};
    for (auto [path, split, key] : {std::tuple{&o.test, Split::kTest, "source.test"},
                                    std::tuple{&o.valid, Split::kValid, "source.valid"}}) {
      if (path->empty()) continue;
      const InteractionPool pool = readInteractions(*path, o, &ids);
      timing.emplace_back(*path, pool.timed);
      for (std::size_t k = 0; k < pool.pairs.size(); ++k) pool.addTo(k, split, &builder);
      builder.setMetadata(key, *path);
    }
    requireSameTiming(timing);
  }
  ids.users.checkDense();
  ids.items.checkDense();
  if (split_from_files) {
    for (std::size_t k = 0; k < train.pairs.size(); ++k) train.addTo(k, Split::kTrain, &builder);
    builder.setMetadata("split", "from files");
  } else {
    builder.setMetadata("split", splitInteractions(std::move(train), o, &builder));
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
