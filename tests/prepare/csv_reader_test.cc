// CsvReader: RFC 4180 quoting, delimiter detection, byte-order mark and bad records.

#include <gtest/gtest.h>

#include "engine/common/error.h"
#include "engine/prepare/csv_reader.h"
#include "tests/prepare/test_files.h"

namespace kgrec {
namespace {

using Fields = std::vector<std::string>;

std::vector<Fields> records(CsvReader& reader) {
  std::vector<Fields> out;
  Fields f;
  while (reader.next(&f)) out.push_back(f);
  return out;
}

TEST(CsvReader, QuotedFieldsWithDelimitersQuotesAndLineBreaks) {
  TempDir dir;
  CsvReader reader(dir.write("a.csv", "id,\"title, quoted\",note\r\n"
                                      "1,\"Heat, The\",\"say \"\"hi\"\"\"\r\n"
                                      "2,\"two\r\nlines\",\n"
                                      "\n"
                                      "3,5'2\" tall,\"\"\n"));
  EXPECT_EQ(reader.delimiter(), ',');
  EXPECT_EQ(reader.header(), (Fields{"id", "title, quoted", "note"}));
  const std::vector<Fields> r = records(reader);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], (Fields{"1", "Heat, The", "say \"hi\""}));
  EXPECT_EQ(r[1], (Fields{"2", "two\nlines", ""}));
  EXPECT_EQ(r[2], (Fields{"3", "5'2\" tall", ""}));  // a quote inside an unquoted field is kept
}

TEST(CsvReader, DetectsEachDelimiterAndStripsTheByteOrderMark) {
  TempDir dir;
  for (char d : {',', '\t', ';', '|'}) {
    std::string others;  // the other candidates, as data
    for (char c : {',', '\t', ';', '|'}) others += c == d ? "" : std::string(1, c);
    // A lone other candidate in the header does not fool the detection.
    const std::string h = std::string("\xEF\xBB\xBF") + "user" + d + "item" + d + "note" + others[0];
    CsvReader reader(dir.write("d.txt", h + "\n" + others + d + "i" + d + "n\n"));
    EXPECT_EQ(reader.delimiter(), d);
    EXPECT_EQ(reader.header()[0], "user");
    EXPECT_EQ(records(reader), (std::vector<Fields>{{others, "i", "n"}}));
  }
  // Quoted delimiters in the header do not count.
  CsvReader quoted(dir.write("q.csv", "\"a;b;c\",d\n1,2\n"));
  EXPECT_EQ(quoted.delimiter(), ',');
  EXPECT_EQ(delimiterFromName("tab"), '\t');
  EXPECT_EQ(delimiterFromName(":"), ':');
  EXPECT_EQ(delimiterFromName(""), 0);
  EXPECT_THROW(delimiterFromName("\""), ConfigError);
  EXPECT_THROW(delimiterFromName("ab"), ConfigError);
}

TEST(CsvReader, TrailingDelimiterIsDropped) {
  TempDir dir;
  CsvReader reader(dir.write("t.tsv", "a\tb\n1\t2\t\n"));
  EXPECT_EQ(records(reader), (std::vector<Fields>{{"1", "2"}}));
}

void expectBad(const TempDir& dir, const std::string& contents, int line, const std::string& fragment) {
  const std::string path = dir.write("bad.csv", contents);
  const std::string message = thrownMessage<InputError>([&] {
    CsvReader reader(path);
    records(reader);
  });
  EXPECT_TRUE(contains(message, path + ":" + std::to_string(line) + ": ")) << message;
  EXPECT_TRUE(contains(message, fragment)) << message;
}

TEST(CsvReader, BadRecordsNameFileAndLine) {
  TempDir dir;
  expectBad(dir, "a,b\n1,2\n1,2,3\n", 3, "expected 2 comma-separated fields as in the header, found 3");
  expectBad(dir, "a,b\n1,2\n1\n", 3, "found 1");
  expectBad(dir, "a,b\n1,\"x\"y\n", 2, "text after the closing quote of field 2");
  expectBad(dir, "a,b\n1,2\n3,\"open\n\n", 4, "the quoted field 2 opened on line 3 is never closed");
  expectBad(dir, "single column\n1\n", 1, "the header has no delimiter");
  const std::string blank = dir.write("blank.csv", "\n \n");
  EXPECT_TRUE(contains(thrownMessage<InputError>([&] { CsvReader r(blank); }), "no header line"));
}

}  // namespace
}  // namespace kgrec
