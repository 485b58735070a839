#include "launcher/top_k_tsv.h"

#include <fmt/format.h>

namespace kgrec {

void appendTopKLines(const TopKLists& lists, const std::vector<std::int32_t>& queries,
                     const std::vector<std::string>& query_ids,
                     const std::vector<std::string>& item_ids, std::string* out) {
  fmt::memory_buffer buffer;
  for (std::size_t r = 0; r < queries.size(); ++r) {
    const std::string& query = query_ids[queries[r]];
    for (std::int32_t j = 0; j < lists.counts[r]; ++j) {
      const std::int64_t at = static_cast<std::int64_t>(r) * lists.k + j;
      fmt::format_to(std::back_inserter(buffer), "{}\t{}\t{}\t{}\n", query,
                     item_ids[lists.items[at]], j + 1, lists.scores[at]);
    }
  }
  out->append(buffer.data(), buffer.size());
}

}  // namespace kgrec
