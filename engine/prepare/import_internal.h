#pragma once
// Pieces shared by the importers (not part of the public API).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/common/line_reader.h"
#include "engine/common/progress.h"
#include "engine/graph/dataset_builder.h"
#include "engine/prepare/csv_reader.h"
#include "engine/prepare/importers.h"

namespace kgrec::import_internal {

constexpr std::int64_t kMaxIndex = INT32_MAX - 1;  // so that a count still fits in int32

// Calls fn(line) for every line that is not blank, reporting progress in bytes read.
template <typename Fn>
void forEachLine(LineReader& reader, Fn&& fn) {
  Progress progress("reading " + reader.path(), reader.fileSize());
  std::string_view line;
  while (reader.next(&line)) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    fn(line);
    if ((reader.lineNumber() & 1023) == 0) progress.update(reader.bytesRead());
  }
  progress.finish();
}

// A "#..." first line is a header (TSV-style files).
inline bool isHeader(const LineReader& reader, std::string_view line) {
  return reader.lineNumber() == 1 && !line.empty() && line.front() == '#';
}

// Maps the ids of one node type found in input files to local indices. Numeric ids are kept
// as indices; string ids are interned in order of appearance (and mirrored here, because the
// builder cannot look an id up without creating the node).
class NodeIds {
 public:
  NodeIds(DatasetBuilder* builder, NodeType type, bool numeric);

  // Local index of `id`, creating the node. Numeric ids must lie in [0, maxIndex()].
  std::int64_t add(const LineReader& reader, std::string_view id);
  // Numeric ids: throws InputError at the largest id when it lies far beyond the number of
  // ids read (more than 1024 + 8 per id), since every index below it becomes a node.
  void checkDense() const;
  // Local index of a string id, creating the node (interned ids only).
  std::int64_t intern(std::string_view id);
  // Local index of an existing node, or -1.
  std::int64_t find(const LineReader& reader, std::string_view id) const;

  void setMaxIndex(std::int64_t max) { max_ = max; }
  std::int64_t maxIndex() const { return max_; }
  NodeType type() const { return type_; }
  const char* what() const { return what_.c_str(); }

 private:
  DatasetBuilder* builder_;
  NodeType type_;
  bool numeric_;
  std::int64_t max_ = kMaxIndex;
  std::string what_;  // "user id", for messages
  std::unordered_map<std::string, std::int64_t> by_name_;
  // Numeric ids: how many were read, the largest, and where it was read.
  std::int64_t occurrences_ = 0, largest_ = -1, largest_line_ = 0;
  std::string largest_path_;
};

// A numeric id space of `count` nodes is dense enough for `occurrences` ids read.
inline bool denseEnough(std::int64_t count, std::int64_t occurrences) {
  return count <= 1024 + 8 * occurrences;
}

// Splits on every occurrence of `separator` (which may be longer than one character);
// trailing empty fields (a separator at the end of the line) are dropped.
void splitOn(std::string_view line, std::string_view separator,
             std::vector<std::string_view>* fields);

struct NodeIdSet {
  NodeIds users, items, entities;
};

// Interactions read from files before they are split, with their times where the source
// has them.
struct InteractionPool {
  std::vector<Interaction> pairs;
  std::vector<std::int64_t> times;  // aligned with pairs when `timed`, else empty
  bool timed = false;               // the source has a time column
  std::string source;               // the file they came from, for messages

  void add(std::int64_t user, std::int64_t item) {
    pairs.push_back({static_cast<std::int32_t>(user), static_cast<std::int32_t>(item)});
  }
  void add(std::int64_t user, std::int64_t item, std::int64_t time) {
    add(user, item);
    times.push_back(time);
  }
  // Adds interaction k, with its time if any, to a split of the builder.
  void addTo(std::size_t k, Split split, DatasetBuilder* builder) const {
    if (timed) {
      builder->addInteraction(split, pairs[k].user, pairs[k].item, times[k]);
    } else {
      builder->addInteraction(split, pairs[k].user, pairs[k].item);
    }
  }
};

// A dataset has timestamps for every interaction or for none: throws InputError when some of
// the interaction files (path, has times) have them and others do not.
void requireSameTiming(const std::vector<std::pair<std::string, bool>>& files);

// The last path component of a folder, also for "dir/" and ".".
std::string folderName(const std::filesystem::path& dir);

// A time field: an integer (e.g. Unix seconds), a decimal number (rounded to the nearest
// integer) or an ISO 8601 date "YYYY-MM-DD[( |T)HH:MM[:SS][Z]]" read as UTC, in Unix seconds.
std::int64_t parseTimestamp(const LineReader& reader, std::string_view field);

// Where the user, item, rating and time fields are in a delimited file's records (-1: none).
struct InteractionColumns {
  int user = -1, item = -1, rating = -1, time = -1;
};

// Finds the columns among the header `names`: those that `spec` names
// ("user,item[,rating][,timestamp]", an empty entry: no such column), or, for an empty spec,
// the first of the usual names of each (user_id, userId, item_id, movieId, rating, stars,
// timestamp, date, ...; case, '_', '-' and ' ' ignored). InputError on line 1 when one is
// missing, ConfigError for a malformed spec.
InteractionColumns findInteractionColumns(const CsvReader& reader,
                                          const std::vector<std::string>& names,
                                          const std::string& spec);

// Reads the records of `reader` into `pool`: user ids interned, item ids interned or, with
// `known_items_from` set (the file that lists them), looked up; ratings below min_rating
// dropped.
void readDelimitedInteractions(CsvReader& reader, const InteractionColumns& columns,
                               double min_rating, const char* known_items_from, NodeIdSet* ids,
                               InteractionPool* pool);

// Splits pooled interactions into train / valid / test by options.split (with its fractions
// and seed) and returns the description kept as metadata "split".
std::string splitInteractions(InteractionPool pool, const ImportOptions& options,
                              DatasetBuilder* builder);

// Reads a MovieLens folder: items with texts and a derived KG (genre, year, decade, and with
// tags.csv tags) go into the builder, with the source files as metadata; ratings >=
// min_rating, with their times, go into `ratings`.
void readMovieLens(const ImportOptions& options, NodeIdSet* ids, DatasetBuilder* builder,
                   InteractionPool* ratings);

// Reads RecBole atomic files (NAME.inter, optional NAME.item, NAME.kg, NAME.link). The
// interactions of NAME.inter go into `pool`; with NAME.train.inter and NAME.test.inter
// instead (a RecBole benchmark split) they go into the builder's splits and the function
// returns true.
bool readRecBole(const ImportOptions& options, NodeIdSet* ids, DatasetBuilder* builder,
                 InteractionPool* pool);

}  // namespace kgrec::import_internal
