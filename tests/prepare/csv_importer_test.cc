// Format csv (delimited files with a header) and the timestamps of tsv: columns by name or by
// --columns, quoting, delimiters, BOM, times, and bad lines named with file:line.

#include <gtest/gtest.h>

#include "engine/common/error.h"
#include "engine/prepare/importers.h"
#include "tests/prepare/test_files.h"

namespace kgrec {
namespace {

ImportOptions csv(const std::string& train, const std::string& test) {
  ImportOptions o;
  o.format = InputFormat::kCsv;
  o.train = train;
  o.test = test;
  return o;
}

TEST(CsvImporter, FindsColumnsByTheirUsualNames) {
  TempDir dir;
  // Extra columns, quoted ids with commas, CRLF line ends and a byte-order mark.
  ImportOptions o = csv(dir.write("train.csv", "\xEF\xBB\xBF" "review,User_ID,movieId,Rating,Timestamp\r\n"
                                               "r1,alice,\"Heat, The\",5,100\r\n"
                                               "r2,bob,Casino,2,200\r\n"
                                               "r3,alice,Casino,4.5,300\r\n"),
                        dir.write("test.csv", "userId,rating,movieId,timestamp\nbob,5,\"Heat, The\",400\n"));
  o.min_rating = 3;
  const Dataset d = importDataset(o);
  validateDataset(d);
  EXPECT_EQ(d.user_ids, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(d.item_ids, (std::vector<std::string>{"Heat, The", "Casino"}));
  EXPECT_EQ(d.train, (std::vector<Interaction>{{0, 0}, {0, 1}}));  // bob/Casino rated 2
  EXPECT_EQ(d.train_times, (std::vector<std::int64_t>{100, 300}));
  EXPECT_EQ(d.test, (std::vector<Interaction>{{1, 0}}));
  EXPECT_EQ(d.test_times, std::vector<std::int64_t>{400});
  EXPECT_EQ(d.metadata.at("importer"), "csv");
  EXPECT_EQ(d.metadata.at("split"), "from files");
}

TEST(CsvImporter, ColumnsOptionAndEachDelimiter) {
  TempDir dir;
  for (const char* d : {",", "\t", ";", "|"}) {
    const std::string sep = d;
    ImportOptions o = csv(dir.write("train.txt", "who" + sep + "what" + sep + "when\n" +
                                                 "u1" + sep + "a" + sep + "2020-01-02\n" +
                                                 "u1" + sep + "b" + sep + "2020-01-02T00:00:01Z\n"),
                          dir.write("test.txt", "who" + sep + "what" + sep + "when\n" +
                                                "u1" + sep + "c" + sep + "1577923202.4\n"));
    o.columns = "who,what,,when";
    const Dataset ds = importDataset(o);
    EXPECT_EQ(ds.item_ids, (std::vector<std::string>{"a", "b", "c"})) << sep;
    // 2020-01-02 is 18263 days after 1970-01-01.
    EXPECT_EQ(ds.train_times, (std::vector<std::int64_t>{1577923200, 1577923201})) << sep;
    EXPECT_EQ(ds.test_times, std::vector<std::int64_t>{1577923202}) << sep;
    o.delimiter = sep == "," ? ";" : "comma";  // a wrong delimiter given explicitly
    EXPECT_THROW(importDataset(o), InputError) << sep;
  }
}

TEST(CsvImporter, WithoutTimeColumnHasNoTimes) {
  TempDir dir;
  std::string lines = "user,item\n";
  for (int i = 0; i < 6; ++i) lines += "u,i" + std::to_string(i) + "\n";
  ImportOptions o = csv(dir.write("all.csv", lines), "");
  const Dataset d = importDataset(o);
  EXPECT_FALSE(d.hasTimestamps());
  EXPECT_EQ(d.train.size() + d.test.size(), 6u);
  o.split = SplitMethod::kTemporalUser;
  EXPECT_TRUE(contains(thrownMessage<ConfigError>([&] { importDataset(o); }), "has no timestamps"));
}

TEST(CsvImporter, BadLinesNameFileAndLine) {
  TempDir dir;
  const std::string test = dir.write("test.csv", "user,item\nx,y\n");
  ImportOptions o = csv(dir.write("t.csv", "user,item,rating\na,b,5\na,c\n"), test);
  expectInputError(o, o.train, 3, "expected 3 comma-separated fields");
  o.train = dir.write("t.csv", "user,item,rating\na,b,5\na,c,five\n");
  expectInputError(o, o.train, 3, "rating 'five' is not a number");
  o.train = dir.write("t.csv", "user,item,time\na,b,5\na,c,yesterday\n");
  expectInputError(o, o.train, 3, "timestamp 'yesterday' is neither a number nor a date");
  o.train = dir.write("t.csv", "user,item,time\na,b,2020-02-29\na,c,2021-02-29\n");
  expectInputError(o, o.train, 3, "timestamp '2021-02-29' is neither");
  o.train = dir.write("t.csv", "user,item\na,b\n,c\n");
  expectInputError(o, o.train, 3, "empty user id");
  o.train = dir.write("t.csv", "user,item\na,\"b\n");
  expectInputError(o, o.train, 2, "opened on line 2 is never closed");
  o.train = dir.write("t.csv", "person,thing\na,b\n");
  expectInputError(o, o.train, 1, "found no user column among the header's 'person', 'thing'");
  o.columns = "person,object";
  expectInputError(o, o.train, 1, "no column 'object' (from --columns)");
  o.columns = "person,thing,rating";
  expectInputError(o, o.train, 1, "no column 'rating'");
  o.columns = "person";
  EXPECT_TRUE(contains(thrownMessage<ConfigError>([&] { importDataset(o); }), "--columns 'person'"));
  o = csv(dir.write("t.csv", "user,item\na,b\n"), test);
  o.min_rating = 4;
  expectInputError(o, o.train, 1, "--min-rating needs a rating column");
  // Times in the training file but not in the test file.
  o = csv(dir.write("t.csv", "user,item,timestamp\na,b,1\n"), test);
  const std::string message = thrownMessage<InputError>([&] { importDataset(o); });
  EXPECT_TRUE(contains(message, test + ": has no timestamps, but " + o.train + " has them")) << message;
}

TEST(TsvImporter, FourthFieldIsTheTimestamp) {
  TempDir dir;
  ImportOptions o;
  o.format = InputFormat::kTsv;
  o.train = dir.write("train.tsv", "a\tx\t5\t10\na\ty\t1\t20\nb\tx\t4\t30\n");
  o.test = dir.write("test.tsv", "b\ty\t3\t40\n");
  o.min_rating = 2;
  const Dataset d = importDataset(o);
  EXPECT_EQ(d.train_times, (std::vector<std::int64_t>{10, 30}));
  EXPECT_EQ(d.test_times, std::vector<std::int64_t>{40});
  o.train = dir.write("train.tsv", "a\tx\t5\t10\na\ty\t1\n");
  expectInputError(o, o.train, 2, "this line has no timestamp, but earlier lines have one");
}

TEST(LightGcnImporter, SparseNumericIdsAreRefused) {
  TempDir dir;
  ImportOptions o;
  o.train = dir.write("train.txt", "0 1 2\n1 2000000\n");
  o.test = dir.write("test.txt", "0 3\n");
  expectInputError(o, o.train, 2, "item id 2000000 lies far beyond the 4 ids read");
  o.train = dir.write("train.txt", "0 1 2\n");
  o.kg = dir.write("kg.txt", "0 0 5\n1 0 3000000\n");
  expectInputError(o, o.kg, 2, "KG id 3000000 lies far beyond");
}

}  // namespace
}  // namespace kgrec
