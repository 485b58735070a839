#pragma once
// Pieces shared by the importers (not part of the public API).

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/common/line_reader.h"
#include "engine/common/progress.h"
#include "engine/graph/dataset_builder.h"
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
};

// Splits on every occurrence of `separator` (which may be longer than one character);
// trailing empty fields (a separator at the end of the line) are dropped.
void splitOn(std::string_view line, std::string_view separator,
             std::vector<std::string_view>* fields);

struct NodeIdSet {
  NodeIds users, items, entities;
};

// Reads a MovieLens folder: items with texts and a derived KG (genre, year, decade) go into
// the builder, with the source files as metadata; ratings >= min_rating are appended to
// `ratings` for the random split.
void readMovieLens(const ImportOptions& options, NodeIdSet* ids, DatasetBuilder* builder,
                   std::vector<Interaction>* ratings);

}  // namespace kgrec::import_internal
