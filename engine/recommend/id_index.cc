#include "engine/recommend/id_index.h"

#include "engine/common/error.h"
#include "engine/common/line_reader.h"

namespace kgrec {

IdIndex::IdIndex(const std::vector<std::string>& ids, std::string what)
    : what_(std::move(what)), ids_(ids) {
  index_.reserve(ids_.size());
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    const bool added = index_.emplace(ids_[i], static_cast<std::int32_t>(i)).second;
    KGREC_CHECK(added, "{} {} appears twice in the dataset", what_, ids_[i]);
  }
}

std::optional<std::int32_t> IdIndex::find(std::string_view id) const {
  const auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::int32_t> readIdList(const std::string& path, const IdIndex& index) {
  LineReader reader(path);
  std::vector<std::int32_t> out;
  std::string_view line;
  while (reader.next(&line)) {
    const std::size_t begin = line.find_first_not_of(" \t");
    if (begin == std::string_view::npos || line[begin] == '#') continue;
    const std::string_view id = line.substr(begin, line.find_last_not_of(" \t") + 1 - begin);
    const std::optional<std::int32_t> local = index.find(id);
    if (!local) {
      reader.fail(fmt::format("unknown {} '{}': the dataset has no such {} (ids are the "
                              "original ones of the input files)",
                              index.what(), id, index.what()));
    }
    out.push_back(*local);
  }
  if (out.empty()) throw InputError(path, fmt::format("no {}s in the file", index.what()));
  return out;
}

}  // namespace kgrec
