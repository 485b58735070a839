#pragma once
// Reads a text input file line by line, keeping the line number for error messages.
// Rejects what is not text up front (NUL bytes, UTF-16/32 byte-order marks) so that a wrong
// encoding is reported as such instead of as a puzzling parse error further down.

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/error.h"

namespace kgrec {

class LineReader {
 public:
  // Throws InputError when the file is missing, unreadable, empty or not 8-bit text.
  explicit LineReader(std::string path);

  // Next line without its "\n" or "\r\n" (nor, on line 1, a UTF-8 byte-order mark); false at
  // the end of the file.
  bool next(std::string_view* line);
  std::int64_t lineNumber() const { return line_number_; }
  const std::string& path() const { return path_; }
  std::uint64_t bytesRead() const { return bytes_read_; }
  std::uint64_t fileSize() const { return file_size_; }

  // Throws InputError for the current line.
  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::string path_;
  std::ifstream in_;
  std::string buffer_;
  std::int64_t line_number_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t file_size_ = 0;
};

// Splits on any run of the given separators; empty fields are dropped.
void splitFields(std::string_view line, std::string_view separators,
                 std::vector<std::string_view>* fields);
// Splits on every occurrence of one separator; empty fields are kept.
void splitExact(std::string_view line, char separator, std::vector<std::string_view>* fields);

// Parses a whole field as a base-10 integer in [min, max]; on failure calls reader.fail()
// naming `what` (e.g. "user id").
std::int64_t parseInt(const LineReader& reader, std::string_view field, const char* what,
                      std::int64_t min, std::int64_t max);
double parseDouble(const LineReader& reader, std::string_view field, const char* what);

// True when `text` is well-formed UTF-8.
bool isValidUtf8(std::string_view text);
// Converts ISO-8859-1 (Latin-1) bytes to UTF-8.
std::string latin1ToUtf8(std::string_view text);

}  // namespace kgrec
