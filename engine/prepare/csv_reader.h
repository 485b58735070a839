#pragma once
// Reads a delimited text file with a header line (CSV, TSV, ...) record by record, as RFC 4180
// describes: a field that starts with a double quote is quoted and may hold the delimiter,
// line breaks and doubled quotes (""). A quote inside an unquoted field is kept as it is.
// The delimiter is given or detected from the header: the most frequent of comma, tab,
// semicolon and '|' outside quotes. Blank lines are skipped. A record must have as many
// fields as the header (one more, empty, is a trailing delimiter and dropped).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/line_reader.h"

namespace kgrec {

class CsvReader {
 public:
  // Opens `path` and reads its header. `delimiter` 0 means detect it. Throws InputError for
  // a missing or empty file, a header without a delimiter, or a bad header record.
  explicit CsvReader(std::string path, char delimiter = 0);

  // Field names of the header, as written (quotes removed).
  const std::vector<std::string>& header() const { return header_; }
  char delimiter() const { return delimiter_; }

  // Next record; false at the end of the file. Throws InputError for a quote left open, text
  // after a closing quote, or a field count other than the header's.
  bool next(std::vector<std::string>* fields);

  // The line reader, for parseInt / parseDouble and fail(): it names the record's last line.
  const LineReader& lines() const { return lines_; }
  const std::string& path() const { return lines_.path(); }
  [[noreturn]] void fail(const std::string& what) const { lines_.fail(what); }

 private:
  // Splits the record that starts with the line in record_ into fields, reading more lines
  // while a quoted field is open.
  void parseRecord(std::vector<std::string>* fields);

  LineReader lines_;
  char delimiter_;
  std::string record_;
  std::vector<std::string> header_;
};

// The name of a delimiter for messages: "comma", "tab", "';'".
std::string delimiterName(char delimiter);
// A delimiter given by name ("comma", "tab", "semicolon", "pipe") or as one character; 0 for
// "" (detect). ConfigError otherwise.
char delimiterFromName(const std::string& name);

}  // namespace kgrec
