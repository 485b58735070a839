#include "engine/store/dataset_io.h"

#include <utility>

#include "engine/common/atomic_output.h"
#include "engine/common/error.h"
#include "engine/store/hdf5_file.h"

namespace kgrec {
namespace {

struct SplitField {
  const char* name;
  std::vector<Interaction> Dataset::*field;
  std::vector<std::int64_t> Dataset::*times;
};
constexpr SplitField kSplits[] = {{"train", &Dataset::train, &Dataset::train_times},
                                  {"valid", &Dataset::valid, &Dataset::valid_times},
                                  {"test", &Dataset::test, &Dataset::test_times}};

void checkLength(std::size_t got, std::int64_t want, const char* what) {
  KGREC_CHECK(static_cast<std::int64_t>(got) == want,
              "cannot write the dataset: {} has {} entries, expected {}", what, got, want);
}

std::string splitGroup(const char* split) { return std::string("/interactions/") + split; }

Hdf5File openDatasetFile(const std::string& path) {
  Hdf5File file = Hdf5File::openRead(path);
  if (!file.hasAttribute("/", "magic") || file.readStringAttribute("/", "magic") != kDatasetMagic) {
    throw FormatError(
        fmt::format("{}: not a kgrec dataset (no '{}' magic attribute); create one "
                    "with kgrec prepare",
                    path, kDatasetMagic));
  }
  if (!file.hasAttribute("/", "format_version")) {
    throw FormatError(
        fmt::format("{}: kgrec dataset without a format_version attribute; re-run "
                    "kgrec prepare to rewrite it",
                    path));
  }
  const std::int64_t version = file.readIntAttribute("/", "format_version");
  if (version != kDatasetFormatVersion) {
    throw FormatError(fmt::format(
        "{}: dataset format version {}, but this kgrec reads version {}; re-run kgrec prepare "
        "to rewrite it{}",
        path, version, kDatasetFormatVersion,
        version > kDatasetFormatVersion ? " (or use the newer kgrec that wrote it)" : ""));
  }
  return file;
}

// Length of a 1-D dataset.
std::int64_t length(const Hdf5File& file, const std::string& dataset) {
  const std::vector<std::int64_t> dims = file.shape(dataset);
  if (dims.size() != 1) {
    throw FormatError(
        fmt::format("{}: {}: has {} dimensions, expected 1", file.path(), dataset, dims.size()));
  }
  return dims[0];
}

void requireSameLength(const Hdf5File& file, std::size_t a, std::size_t b,
                       const std::string& what) {
  if (a != b) {
    throw FormatError(
        fmt::format("{}: {}: columns of different lengths ({} and {})", file.path(), what, a, b));
  }
}

}  // namespace

void writeDataset(const Dataset& d, const std::string& path, bool overwrite) {
  AtomicOutput out(path, overwrite);
  // Declared after `out`, so that on an error the file is closed before out removes it.
  Hdf5File file = Hdf5File::create(out.tempPath());
  file.setAttribute("/", "magic", kDatasetMagic);
  file.setAttribute("/", "format_version", std::int64_t{kDatasetFormatVersion});
  file.setAttribute("/", "name", d.name);

  file.setAttribute("/nodes", "num_users", d.nodes.num_users);
  file.setAttribute("/nodes", "num_items", d.nodes.num_items);
  file.setAttribute("/nodes", "num_entities", d.nodes.num_entities);
  checkLength(d.user_ids.size(), d.nodes.num_users, "user_ids");
  checkLength(d.item_ids.size(), d.nodes.num_items, "item_ids");
  checkLength(d.entity_ids.size(), d.nodes.num_entities, "entity_ids");
  file.writeStrings("/nodes/user_ids", d.user_ids);
  file.writeStrings("/nodes/item_ids", d.item_ids);
  file.writeStrings("/nodes/entity_ids", d.entity_ids);

  checkLength(d.graph.indptr.size(), d.nodes.numNodes() + 1, "graph indptr");
  checkLength(d.graph.relations.size(), d.graph.numEdges(), "graph relations");
  file.writeVector("/graph/indptr", d.graph.indptr);
  file.writeVector("/graph/indices", d.graph.indices);
  file.writeVector("/graph/relations", d.graph.relations);
  file.writeStrings("/relations/names", d.relation_names);

  std::vector<std::int32_t> head(d.triples.size()), relation(d.triples.size()),
      tail(d.triples.size());
  for (std::size_t t = 0; t < d.triples.size(); ++t) {
    head[t] = d.triples[t].head;
    relation[t] = d.triples[t].relation;
    tail[t] = d.triples[t].tail;
  }
  file.writeVector("/kg/triples/head", head);
  file.writeVector("/kg/triples/relation", relation);
  file.writeVector("/kg/triples/tail", tail);

  for (const SplitField& split : kSplits) {
    const std::vector<Interaction>& pairs = d.*split.field;
    std::vector<std::int32_t> users(pairs.size()), items(pairs.size());
    for (std::size_t k = 0; k < pairs.size(); ++k) {
      users[k] = pairs[k].user;
      items[k] = pairs[k].item;
    }
    file.writeVector(splitGroup(split.name) + "/user", users);
    file.writeVector(splitGroup(split.name) + "/item", items);
    if (d.hasTimestamps()) {
      checkLength((d.*split.times).size(), static_cast<std::int64_t>(pairs.size()),
                  "interaction times");
      file.writeVector(splitGroup(split.name) + "/time", d.*split.times);
    }
  }

  file.writeVector("/interactions/cold_items", d.cold_items);

  checkLength(d.item_texts.size(), d.nodes.num_items, "item_texts");
  checkLength(d.entity_texts.size(), d.nodes.num_entities, "entity_texts");
  file.writeStrings("/text/items", d.item_texts);
  file.writeStrings("/text/entities", d.entity_texts);

  file.createGroup("/metadata");
  for (const auto& [key, value] : d.metadata) file.setAttribute("/metadata", key, value);

  file.close();
  out.commit();
}

Dataset readDataset(const std::string& path) {
  const Hdf5File file = openDatasetFile(path);
  Dataset d;
  d.name = file.readStringAttribute("/", "name");
  d.nodes.num_users = file.readIntAttribute("/nodes", "num_users");
  d.nodes.num_items = file.readIntAttribute("/nodes", "num_items");
  d.nodes.num_entities = file.readIntAttribute("/nodes", "num_entities");
  d.user_ids = file.readStrings("/nodes/user_ids");
  d.item_ids = file.readStrings("/nodes/item_ids");
  d.entity_ids = file.readStrings("/nodes/entity_ids");

  d.graph.indptr = file.readVector<std::int64_t>("/graph/indptr");
  d.graph.indices = file.readVector<std::int32_t>("/graph/indices");
  d.graph.relations = file.readVector<std::int32_t>("/graph/relations");
  // validateDataset reads indptr's ends, so its length is checked first.
  if (static_cast<std::int64_t>(d.graph.indptr.size()) != d.nodes.numNodes() + 1) {
    throw FormatError(fmt::format("{}: /graph/indptr has {} entries, expected {} (nodes + 1)", path,
                                  d.graph.indptr.size(), d.nodes.numNodes() + 1));
  }
  d.relation_names = file.readStrings("/relations/names");

  const auto head = file.readVector<std::int32_t>("/kg/triples/head");
  const auto relation = file.readVector<std::int32_t>("/kg/triples/relation");
  const auto tail = file.readVector<std::int32_t>("/kg/triples/tail");
  requireSameLength(file, head.size(), relation.size(), "/kg/triples");
  requireSameLength(file, head.size(), tail.size(), "/kg/triples");
  d.triples.resize(head.size());
  for (std::size_t t = 0; t < head.size(); ++t) d.triples[t] = {head[t], relation[t], tail[t]};

  for (const SplitField& split : kSplits) {
    const auto users = file.readVector<std::int32_t>(splitGroup(split.name) + "/user");
    const auto items = file.readVector<std::int32_t>(splitGroup(split.name) + "/item");
    requireSameLength(file, users.size(), items.size(), splitGroup(split.name));
    std::vector<Interaction>& pairs = d.*split.field;
    pairs.resize(users.size());
    for (std::size_t k = 0; k < users.size(); ++k) pairs[k] = {users[k], items[k]};
    // Absent in files without timestamps (and in those written before they were kept).
    const std::string time_path = splitGroup(split.name) + "/time";
    if (file.has(time_path)) {
      d.*split.times = file.readVector<std::int64_t>(time_path);
      requireSameLength(file, users.size(), (d.*split.times).size(), splitGroup(split.name));
    }
  }

  // Absent in files written before cold-start splits existed: no cold items.
  if (file.has("/interactions/cold_items")) {
    d.cold_items = file.readVector<std::int32_t>("/interactions/cold_items");
  }

  d.item_texts = file.readStrings("/text/items");
  d.entity_texts = file.readStrings("/text/entities");
  for (const std::string& key : file.attributeNames("/metadata")) {
    d.metadata[key] = file.readStringAttribute("/metadata", key);
  }

  try {
    validateDataset(d);
  } catch (const FormatError& e) {
    throw FormatError(fmt::format("{}: {}", path, e.what()));
  }
  return d;
}

DatasetSummary readDatasetSummary(const std::string& path) {
  const Hdf5File file = openDatasetFile(path);
  DatasetSummary s;
  s.name = file.readStringAttribute("/", "name");
  s.num_users = file.readIntAttribute("/nodes", "num_users");
  s.num_items = file.readIntAttribute("/nodes", "num_items");
  s.num_entities = file.readIntAttribute("/nodes", "num_entities");
  s.num_edges = length(file, "/graph/indices");
  s.num_kg_relations = static_cast<std::int32_t>((length(file, "/relations/names") - 2) / 2);
  s.num_triples = length(file, "/kg/triples/head");
  s.num_train = length(file, splitGroup("train") + "/user");
  s.num_valid = length(file, splitGroup("valid") + "/user");
  s.num_test = length(file, splitGroup("test") + "/user");
  return s;
}

}  // namespace kgrec
