// Interactions from a delimited file with a header: which columns hold what, and reading them.

#include <algorithm>
#include <cctype>

#include "engine/common/error.h"
#include "engine/prepare/import_internal.h"

namespace kgrec::import_internal {

namespace {

// A header name without case and without '_', '-' and ' ': "User_ID" -> "userid".
std::string normalizedName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '_' || c == '-' || c == ' ') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

// The usual names of each column, normalized.
const std::vector<std::string> kUserNames = {"user", "userid", "uid", "customerid", "reviewerid",
                                             "visitorid"};
const std::vector<std::string> kItemNames = {
    "item", "itemid", "iid", "movieid", "productid", "asin", "businessid", "trackid",
    "artistid", "bookid", "isbn", "songid", "poiid", "venueid", "locationid"};
const std::vector<std::string> kRatingNames = {"rating", "stars", "score"};
const std::vector<std::string> kTimeNames = {"timestamp", "time", "ts", "datetime", "date",
                                             "unixtime", "unixreviewtime"};

std::string headerList(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + ("'" + n + "'");
  return out;
}

// Index of the first header name among `usual`, or -1.
int findUsual(const std::vector<std::string>& names, const std::vector<std::string>& usual) {
  for (std::size_t k = 0; k < names.size(); ++k) {
    if (std::find(usual.begin(), usual.end(), normalizedName(names[k])) != usual.end()) {
      return static_cast<int>(k);
    }
  }
  return -1;
}

}  // namespace

InteractionColumns findInteractionColumns(const CsvReader& reader,
                                          const std::vector<std::string>& names,
                                          const std::string& spec) {
  InteractionColumns c;
  if (spec.empty()) {
    c = {findUsual(names, kUserNames), findUsual(names, kItemNames),
         findUsual(names, kRatingNames), findUsual(names, kTimeNames)};
    for (auto [index, role] : {std::pair{c.user, "user"}, std::pair{c.item, "item"}}) {
      if (index < 0) {
        throw InputError(reader.path(), 1,
                         fmt::format("found no {} column among the header's {}; name the "
                                     "columns with --columns user,item[,rating][,timestamp]",
                                     role, headerList(names)));
      }
    }
    return c;
  }
  std::vector<std::string_view> wanted;
  splitExact(spec, ',', &wanted);
  if (wanted.size() < 2 || wanted.size() > 4 || wanted[0].empty() || wanted[1].empty()) {
    throw ConfigError(fmt::format("--columns '{}': expected user,item[,rating][,timestamp] "
                                  "(header names; leave an entry empty to skip it, as in "
                                  "user,item,,timestamp)", spec));
  }
  int* roles[] = {&c.user, &c.item, &c.rating, &c.time};
  for (std::size_t k = 0; k < wanted.size(); ++k) {
    if (wanted[k].empty()) continue;
    const auto it = std::find(names.begin(), names.end(), wanted[k]);
    if (it == names.end()) {
      throw InputError(reader.path(), 1, fmt::format("no column '{}' (from --columns) among the "
                                                     "header's {}", wanted[k], headerList(names)));
    }
    *roles[k] = static_cast<int>(it - names.begin());
  }
  return c;
}

void readDelimitedInteractions(CsvReader& reader, const InteractionColumns& c, double min_rating,
                               const char* known_items_from, NodeIdSet* ids, InteractionPool* pool) {
  if (min_rating != 0.0 && c.rating < 0) {
    throw InputError(reader.path(), 1, "--min-rating needs a rating column, and this header has "
                                       "none (name it with --columns user,item,rating)");
  }
  pool->timed = c.time >= 0;
  const LineReader& lines = reader.lines();
  Progress progress("reading " + reader.path(), lines.fileSize());
  std::vector<std::string> f;
  while (reader.next(&f)) {
    if (f[c.user].empty()) reader.fail("empty user id");
    if (f[c.item].empty()) reader.fail("empty item id");
    if (c.rating >= 0 && parseDouble(lines, f[c.rating], "rating") < min_rating) continue;
    std::int64_t item = 0;
    if (known_items_from) {
      item = ids->items.find(lines, f[c.item]);
      if (item < 0) reader.fail(fmt::format("item id '{}' is not in {}", f[c.item], known_items_from));
    } else {
      item = ids->items.intern(f[c.item]);
    }
    const std::int64_t user = ids->users.intern(f[c.user]);
    if (c.time >= 0) {
      pool->add(user, item, parseTimestamp(lines, f[c.time]));
    } else {
      pool->add(user, item);
    }
    if ((lines.lineNumber() & 1023) == 0) progress.update(lines.bytesRead());
  }
  progress.finish();
}

}  // namespace kgrec::import_internal
