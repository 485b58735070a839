#include "engine/prepare/csv_reader.h"

#include <algorithm>
#include <iterator>

#include "engine/common/error.h"

namespace kgrec {

namespace {

constexpr char kCandidates[] = {',', '\t', ';', '|'};

bool isBlank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

// The candidate that occurs most often outside quotes (ties: the earlier candidate), or 0.
char detectDelimiter(std::string_view line) {
  std::size_t counts[std::size(kCandidates)] = {};
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    for (std::size_t k = 0; k < std::size(kCandidates); ++k) counts[k] += c == kCandidates[k];
  }
  const std::size_t best = std::max_element(std::begin(counts), std::end(counts)) - counts;
  return counts[best] > 0 ? kCandidates[best] : 0;
}

}  // namespace

std::string delimiterName(char delimiter) {
  switch (delimiter) {
    case ',': return "comma";
    case '\t': return "tab";
    default: return std::string("'") + delimiter + "'";
  }
}

char delimiterFromName(const std::string& name) {
  if (name.empty()) return 0;
  for (auto [n, c] : {std::pair{"comma", ','}, std::pair{"tab", '\t'}, std::pair{"semicolon", ';'},
                      std::pair{"pipe", '|'}}) {
    if (name == n) return c;
  }
  if (name.size() != 1 || name[0] == '"' || name[0] == '\n' || name[0] == '\r') {
    throw ConfigError(fmt::format("delimiter '{}': expected comma, tab, semicolon, pipe or one "
                                  "character other than a quote or a line break", name));
  }
  return name[0];
}

CsvReader::CsvReader(std::string path, char delimiter) : lines_(std::move(path)), delimiter_(delimiter) {
  std::string_view line;
  bool found = false;
  while (!found && lines_.next(&line)) found = !isBlank(line);
  if (!found) throw InputError(lines_.path(), "holds no header line (only blank lines)");
  if (delimiter_ == 0) {
    delimiter_ = detectDelimiter(line);
    if (delimiter_ == 0) {
      lines_.fail("the header has no delimiter (comma, tab, semicolon or '|'): a delimited "
                  "file needs at least a user and an item column");
    }
  }
  record_.assign(line);
  parseRecord(&header_);
}

bool CsvReader::next(std::vector<std::string>* fields) {
  std::string_view line;
  do {
    if (!lines_.next(&line)) return false;
  } while (isBlank(line));
  record_.assign(line);
  parseRecord(fields);
  if (fields->size() == header_.size() + 1 && fields->back().empty()) fields->pop_back();
  if (fields->size() != header_.size()) {
    fail(fmt::format("expected {} {}-separated fields as in the header, found {}",
                     header_.size(), delimiterName(delimiter_), fields->size()));
  }
  return true;
}

void CsvReader::parseRecord(std::vector<std::string>* fields) {
  const std::int64_t first_line = lines_.lineNumber();
  std::size_t count = 0;
  std::size_t i = 0;
  auto field = [&]() -> std::string& {
    if (fields->size() <= count) fields->emplace_back();
    std::string& f = (*fields)[count++];
    f.clear();
    return f;
  };
  while (true) {
    std::string& f = field();
    if (i < record_.size() && record_[i] == '"') {
      ++i;
      while (true) {
        const std::size_t quote = record_.find('"', i);
        if (quote == std::string::npos) {
          f.append(record_, i, std::string::npos);
          std::string_view more;
          if (!lines_.next(&more)) {
            fail(fmt::format("the quoted field {} opened on line {} is never closed",
                             count, first_line));
          }
          f.push_back('\n');
          i = record_.size() + 1;
          record_.push_back('\n');
          record_.append(more);
          continue;
        }
        f.append(record_, i, quote - i);
        if (quote + 1 < record_.size() && record_[quote + 1] == '"') {
          f.push_back('"');
          i = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      if (i < record_.size() && record_[i] != delimiter_) {
        fail(fmt::format("text after the closing quote of field {}; inside a quoted field "
                         "write a quote twice (\"\")", count));
      }
    } else {
      const std::size_t end = std::min(record_.find(delimiter_, i), record_.size());
      f.append(record_, i, end - i);
      i = end;
    }
    if (i >= record_.size()) break;
    ++i;  // the delimiter
  }
  fields->resize(count);
}

}  // namespace kgrec
