// Time fields of interaction files: integers, decimals and ISO 8601 dates, as Unix seconds.

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "engine/common/error.h"
#include "engine/prepare/import_internal.h"

namespace kgrec::import_internal {

namespace {

// Days from 1970-01-01 to the given civil date (proleptic Gregorian; H. Hinnant's algorithm).
std::int64_t daysFromCivil(std::int64_t y, std::int64_t m, std::int64_t d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Reads `width` digits at `pos` into *value; false when they are not all digits.
bool digits(std::string_view s, std::size_t pos, std::size_t width, int* value) {
  if (pos + width > s.size()) return false;
  auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + pos + width, *value);
  return ec == std::errc() && ptr == s.data() + pos + width && s[pos] != '-' && s[pos] != '+';
}

// "YYYY-MM-DD[( |T)HH:MM[:SS][Z]]" as Unix seconds (UTC); false when it is not one.
bool parseIsoDate(std::string_view s, std::int64_t* seconds) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, &year) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, &month) ||
      s[7] != '-' || !digits(s, 8, 2, &day)) {
    return false;
  }
  std::size_t pos = 10;
  if (pos < s.size() && (s[pos] == ' ' || s[pos] == 'T')) {
    if (!digits(s, pos + 1, 2, &hour) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, &minute)) {
      return false;
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!digits(s, pos + 1, 2, &second)) return false;
      pos += 3;
    }
  }
  if (pos < s.size() && s[pos] == 'Z') ++pos;
  if (pos != s.size() || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (day < 1 || day > kDays[month - 1] + (month == 2 && leap)) return false;
  *seconds = ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second;
  return true;
}

}  // namespace

std::int64_t parseTimestamp(const LineReader& reader, std::string_view field) {
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec == std::errc() && ptr == field.data() + field.size() && !field.empty()) return value;
  if (parseIsoDate(field, &value)) return value;
  const std::string text(field);
  char* end = nullptr;
  const double number = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    reader.fail(fmt::format("timestamp '{}' is neither a number nor a date "
                            "YYYY-MM-DD[ HH:MM[:SS]]", field));
  }
  // 2^62 keeps the rounded value, and differences of two times, inside int64.
  if (!(std::fabs(number) < 0x1p62)) {
    reader.fail(fmt::format("timestamp '{}' is out of range", field));
  }
  return std::llround(number);
}

}  // namespace kgrec::import_internal
