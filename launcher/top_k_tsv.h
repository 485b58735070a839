#pragma once
// The text form of top-K lists that recommend and similar write: one line per entry,
//   QUERY_ID <TAB> ITEM_ID <TAB> RANK <TAB> SCORE
// with the original ids, RANK from 1, and SCORE the shortest decimal that reads back as the
// same float.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/recommend/top_k_items.h"

namespace kgrec {

// Appends the lines of `lists`, whose row r belongs to query queries[r], to `out`.
void appendTopKLines(const TopKLists& lists, const std::vector<std::int32_t>& queries,
                     const std::vector<std::string>& query_ids,
                     const std::vector<std::string>& item_ids, std::string* out);

}  // namespace kgrec
