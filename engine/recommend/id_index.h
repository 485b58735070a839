#pragma once
// Original ids (as in the input files, Dataset::user_ids / item_ids) back to local indices,
// and lists of original ids read from a file, for the commands that take ids from the user
// (recommend --users / --candidates, similar --items).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kgrec {

class IdIndex {
 public:
  // `ids` by local index; `what` names them in messages ("user id"). Error for a repeated id
  // (a dataset never has one).
  IdIndex(const std::vector<std::string>& ids, std::string what);
  // The keys view the owned strings: a copy would view the original's.
  IdIndex(const IdIndex&) = delete;
  IdIndex& operator=(const IdIndex&) = delete;
  IdIndex(IdIndex&&) = default;
  IdIndex& operator=(IdIndex&&) = default;

  std::optional<std::int32_t> find(std::string_view id) const;
  const std::string& what() const { return what_; }

 private:
  std::string what_;
  std::unordered_map<std::string_view, std::int32_t> index_;
  std::vector<std::string> ids_;  // owns the strings the keys view
};

// The local indices of the ids in `path`, one id a line (surrounding spaces and tabs ignored;
// blank lines and lines starting with '#' skipped), in file order with repeats kept.
// InputError naming the file and line for an id `index` does not know, and for a file
// without ids.
std::vector<std::int32_t> readIdList(const std::string& path, const IdIndex& index);

}  // namespace kgrec
