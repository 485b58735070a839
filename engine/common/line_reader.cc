#include "engine/common/line_reader.h"

#include <charconv>
#include <filesystem>

namespace kgrec {

LineReader::LineReader(std::string path) : path_(std::move(path)) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path_, ec)) throw InputError(path_, "file not found");
  if (fs::is_directory(path_, ec)) throw InputError(path_, "is a directory, expected a file");
  file_size_ = fs::file_size(path_, ec);
  if (ec) throw InputError(path_, "cannot read file size: " + ec.message());
  if (file_size_ == 0) throw InputError(path_, "file is empty");
  in_.open(path_, std::ios::binary);
  if (!in_) throw InputError(path_, "cannot open file for reading");
  char head[4] = {0, 0, 0, 0};
  in_.read(head, 4);
  std::streamsize got = in_.gcount();
  in_.clear();
  in_.seekg(0);
  auto b = [&](int i) { return static_cast<unsigned char>(head[i]); };
  if (got >= 2 && ((b(0) == 0xFF && b(1) == 0xFE) || (b(0) == 0xFE && b(1) == 0xFF))) {
    throw InputError(path_, 1, "file is UTF-16 or UTF-32 encoded; convert it to UTF-8 "
                               "(e.g. iconv -f UTF-16 -t UTF-8)");
  }
}

bool LineReader::next(std::string_view* line) {
  if (!std::getline(in_, buffer_)) return false;
  ++line_number_;
  bytes_read_ += buffer_.size() + 1;
  if (!buffer_.empty() && buffer_.back() == '\r') buffer_.pop_back();
  // A UTF-8 byte-order mark (spreadsheet exports write one) is not part of the first field.
  if (line_number_ == 1 && buffer_.compare(0, 3, "\xEF\xBB\xBF") == 0) buffer_.erase(0, 3);
  if (buffer_.find('\0') != std::string::npos) {
    fail("contains a NUL byte: this is not a text file in UTF-8 or ASCII (binary file, or "
         "UTF-16 without a byte-order mark?)");
  }
  *line = buffer_;
  return true;
}

void LineReader::fail(const std::string& what) const { throw InputError(path_, line_number_, what); }

void splitFields(std::string_view line, std::string_view separators,
                 std::vector<std::string_view>* fields) {
  fields->clear();
  std::size_t pos = 0;
  while (pos < line.size()) {
    std::size_t start = line.find_first_not_of(separators, pos);
    if (start == std::string_view::npos) break;
    std::size_t end = line.find_first_of(separators, start);
    if (end == std::string_view::npos) end = line.size();
    fields->push_back(line.substr(start, end - start));
    pos = end;
  }
}

void splitExact(std::string_view line, char separator, std::vector<std::string_view>* fields) {
  fields->clear();
  std::size_t start = 0;
  while (true) {
    std::size_t end = line.find(separator, start);
    if (end == std::string_view::npos) {
      fields->push_back(line.substr(start));
      return;
    }
    fields->push_back(line.substr(start, end - start));
    start = end + 1;
  }
}

std::int64_t parseInt(const LineReader& reader, std::string_view field, const char* what,
                      std::int64_t min, std::int64_t max) {
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec == std::errc::result_out_of_range) {
    reader.fail(fmt::format("{} '{}' is out of range [{}, {}]", what, field, min, max));
  }
  if (ec != std::errc() || ptr != field.data() + field.size() || field.empty()) {
    reader.fail(fmt::format("{} '{}' is not an integer", what, field));
  }
  if (value < min || value > max) {
    reader.fail(fmt::format("{} {} is out of range [{}, {}]", what, value, min, max));
  }
  return value;
}

double parseDouble(const LineReader& reader, std::string_view field, const char* what) {
  std::string copy(field);
  char* end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size()) {
    reader.fail(fmt::format("{} '{}' is not a number", what, field));
  }
  return value;
}

bool isValidUtf8(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    int extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (int k = 1; k <= extra; ++k) {
      if (i + k >= n) return false;
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong encodings, surrogates and values beyond U+10FFFF are not UTF-8.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

std::string latin1ToUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

}  // namespace kgrec
