// RecBole atomic files: NAME.inter (or NAME.train/.valid/.test.inter), NAME.item, NAME.kg and
// NAME.link, tab-separated with typed headers ("user_id:token", "rating:float").

#include <filesystem>
#include <unordered_map>

#include "engine/common/error.h"
#include "engine/prepare/import_internal.h"

namespace kgrec::import_internal {

namespace {

namespace fs = std::filesystem;

// An atomic file open with its header split into names and types.
struct AtomicFile {
  CsvReader reader;
  std::vector<std::string> names, types;

  explicit AtomicFile(const std::string& path) : reader(path, '\t') {
    for (const std::string& field : reader.header()) {
      const std::size_t colon = field.rfind(':');
      const std::string type = colon == std::string::npos ? "" : field.substr(colon + 1);
      if (type != "token" && type != "token_seq" && type != "float" && type != "float_seq") {
        throw InputError(reader.path(), 1,
                         fmt::format("header field '{}' is not 'name:type' with type token, "
                                     "token_seq, float or float_seq", field));
      }
      names.push_back(field.substr(0, colon));
      types.push_back(type);
    }
  }

  // Index of the field `name`, or -1.
  int find(const std::string& name) const {
    for (std::size_t k = 0; k < names.size(); ++k) {
      if (names[k] == name) return static_cast<int>(k);
    }
    return -1;
  }
  // Index of the field `name`, which must be of `type`.
  int require(const std::string& name, const char* type) const {
    const int k = find(name);
    if (k < 0) throw InputError(reader.path(), 1, fmt::format("the header has no '{}' field", name));
    requireType(k, type);
    return k;
  }
  void requireType(int k, const char* type) const {
    if (k >= 0 && types[k] != type) {
      throw InputError(reader.path(), 1, fmt::format("field '{}' is of type {}, expected {}",
                                                     names[k], types[k], type));
    }
  }
};

// The interactions of one .inter file; returns the name of its item field.
std::string readInter(const std::string& path, const ImportOptions& o, NodeIdSet* ids,
                      InteractionPool* pool) {
  AtomicFile file(path);
  const InteractionColumns c = findInteractionColumns(file.reader, file.names, o.columns);
  file.requireType(c.user, "token");
  file.requireType(c.item, "token");
  file.requireType(c.rating, "float");
  file.requireType(c.time, "float");
  pool->source = path;
  readDelimitedInteractions(file.reader, c, o.min_rating, nullptr, ids, pool);
  return file.names[c.item];
}

// NAME.item: every item (also those without interactions), with its token_seq fields joined
// by ". " as its text.
void readItems(const std::string& path, const std::string& item_field, NodeIdSet* ids,
               DatasetBuilder* builder) {
  AtomicFile file(path);
  const int id = file.require(item_field, "token");
  std::vector<std::string> f;
  std::vector<char> seen;
  while (file.reader.next(&f)) {
    if (f[id].empty()) file.reader.fail("empty item id");
    const std::int64_t item = ids->items.intern(f[id]);
    if (seen.size() <= static_cast<std::size_t>(item)) seen.resize(item + 1, 0);
    if (seen[item]) file.reader.fail(fmt::format("item id '{}' appears twice", f[id]));
    seen[item] = 1;
    std::string text;
    for (std::size_t k = 0; k < f.size(); ++k) {
      if (file.types[k] != "token_seq" || f[k].empty()) continue;
      if (!isValidUtf8(f[k])) {
        file.reader.fail("text is not UTF-8; convert it (e.g. iconv -f LATIN1 -t UTF-8)");
      }
      text += (text.empty() ? "" : ". ") + f[k];
    }
    if (!text.empty()) builder->setText(NodeType::kItem, item, std::move(text));
  }
}

// NAME.link: "item_id:token entity_id:token", one entity per item and one item per entity.
// Links of items that occur in no other file are left out: those entities stay entities.
std::unordered_map<std::string, std::int64_t> readLinks(const std::string& path,
                                                        const std::string& item_field,
                                                        const NodeIdSet& ids) {
  AtomicFile file(path);
  const int item_col = file.require(item_field, "token"), entity_col = file.require("entity_id", "token");
  std::unordered_map<std::string, std::int64_t> item_of;
  std::unordered_map<std::int64_t, std::string> entity_of;
  std::vector<std::string> f;
  while (file.reader.next(&f)) {
    if (f[entity_col].empty()) file.reader.fail("empty entity id");
    const std::int64_t item = ids.items.find(file.reader.lines(), f[item_col]);
    if (item < 0) continue;
    const auto [at, new_entity] = item_of.emplace(f[entity_col], item);
    const auto [it, new_item] = entity_of.emplace(item, f[entity_col]);
    if ((!new_entity && at->second != item) || (!new_item && it->second != f[entity_col])) {
      file.reader.fail(fmt::format("item '{}' and entity '{}': an item links to one entity and an "
                                   "entity to one item", f[item_col], f[entity_col]));
    }
  }
  return item_of;
}

// NAME.kg: "head_id:token relation_id:token tail_id:token". A linked entity is its item; without
// a .link file a KG id that is an item id is that item; anything else is an entity.
void readKg(const std::string& path, const std::unordered_map<std::string, std::int64_t>* links,
            NodeIdSet* ids, DatasetBuilder* builder) {
  AtomicFile file(path);
  const int head = file.require("head_id", "token"), relation = file.require("relation_id", "token"),
            tail = file.require("tail_id", "token");
  auto node = [&](const std::string& id) {
    if (id.empty()) file.reader.fail("empty KG id");
    std::int64_t item = -1;
    if (links) {
      const auto it = links->find(id);
      if (it != links->end()) item = it->second;
    } else {
      item = ids->items.find(file.reader.lines(), id);
    }
    return item >= 0 ? NodeRef{NodeType::kItem, item} : NodeRef{NodeType::kEntity, ids->entities.intern(id)};
  };
  std::vector<std::string> f;
  while (file.reader.next(&f)) {
    if (f[relation].empty()) file.reader.fail("empty relation id");
    // One statement each, so that new entities are numbered head first.
    const NodeRef h = node(f[head]);
    const std::int32_t r = builder->relation(f[relation]);
    builder->addTriple(h, r, node(f[tail]));
  }
}

}  // namespace

bool readRecBole(const ImportOptions& o, NodeIdSet* ids, DatasetBuilder* builder,
                 InteractionPool* pool) {
  const std::string name = o.recbole_name.empty() ? folderName(o.recbole_dir) : o.recbole_name;
  auto file = [&](const std::string& suffix) { return (fs::path(o.recbole_dir) / (name + suffix)).string(); };
  auto has = [&](const std::string& suffix) { return fs::is_regular_file(file(suffix)); };
  builder->setMetadata("source.recbole_dir", o.recbole_dir);
  std::string item_field;
  bool split = false;
  if (has(".inter")) {
    item_field = readInter(file(".inter"), o, ids, pool);
    builder->setMetadata("source.train", file(".inter"));
  } else if (has(".train.inter") && has(".test.inter")) {
    split = true;
    item_field = readInter(file(".train.inter"), o, ids, pool);
    builder->setMetadata("source.train", file(".train.inter"));
    std::vector<std::pair<std::string, bool>> timing{{file(".train.inter"), pool->timed}};
    for (auto [suffix, part] : {std::pair{".test.inter", Split::kTest}, std::pair{".valid.inter", Split::kValid}}) {
      if (!has(suffix)) continue;
      InteractionPool eval;
      if (readInter(file(suffix), o, ids, &eval) != item_field) {
        throw InputError(file(suffix), 1, fmt::format("the item field differs from {}'s",
                                                      file(".train.inter")));
      }
      timing.emplace_back(file(suffix), eval.timed);
      for (std::size_t k = 0; k < eval.pairs.size(); ++k) eval.addTo(k, part, builder);
      builder->setMetadata(part == Split::kTest ? "source.test" : "source.valid", file(suffix));
    }
    requireSameTiming(timing);
  } else {
    throw ConfigError(fmt::format("{} holds neither {}.inter nor {}.train.inter + {}.test.inter; "
                                  "give the atomic files' name with --recbole-name",
                                  o.recbole_dir, name, name, name));
  }
  if (has(".item")) {
    readItems(file(".item"), item_field, ids, builder);
    builder->setMetadata("source.item", file(".item"));
  }
  if (o.movielens_kg && has(".kg")) {
    std::unordered_map<std::string, std::int64_t> links;
    if (has(".link")) {
      links = readLinks(file(".link"), item_field, *ids);
      builder->setMetadata("source.link", file(".link"));
    }
    readKg(file(".kg"), has(".link") ? &links : nullptr, ids, builder);
    builder->setMetadata("source.kg", file(".kg"));
  }
  return split;
}

}  // namespace kgrec::import_internal
