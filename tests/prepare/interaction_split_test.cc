// The splits made without a test file: random per user (with a validation share), temporal per
// user and one global time cut, exact on small examples.

#include <gtest/gtest.h>

#include <algorithm>

#include "engine/common/error.h"
#include "engine/prepare/importers.h"
#include "tests/prepare/test_files.h"

namespace kgrec {
namespace {

// Users a, b, c; items x, y, z (interned in this order). (a, x) occurs twice: its time is the
// earlier one, 10. (c, y) and (a, z) share time 50.
constexpr const char* kTimedCsv =
    "user,item,timestamp\n"
    "a,x,10\n"
    "a,y,20\n"
    "b,x,30\n"
    "b,z,40\n"
    "c,y,50\n"
    "a,z,50\n"
    "a,x,60\n";

ImportOptions timed(const TempDir& dir, SplitMethod split, double test, double valid) {
  ImportOptions o;
  o.format = InputFormat::kCsv;
  o.train = dir.write("all.csv", kTimedCsv);
  o.split = split;
  o.test_fraction = test;
  o.valid_fraction = valid;
  return o;
}

using Pairs = std::vector<Interaction>;
using Times = std::vector<std::int64_t>;
constexpr std::int32_t a = 0, b = 1, c = 2, x = 0, y = 1, z = 2;

TEST(TemporalUserSplit, EachUsersLatestItemsGoToTestThenValid) {
  TempDir dir;
  BuildReport report;
  const Dataset d = importDataset(timed(dir, SplitMethod::kTemporalUser, 0.34, 0.34), &report);
  validateDataset(d);
  // a: x(10) y(20) z(50) -> x train, y valid, z test. b: x(30) z(40) -> z test, no room for
  // valid. c: one item stays in train.
  EXPECT_EQ(d.train, (Pairs{{a, x}, {b, x}, {c, y}}));
  EXPECT_EQ(d.train_times, (Times{10, 30, 50}));
  EXPECT_EQ(d.valid, (Pairs{{a, y}}));
  EXPECT_EQ(d.valid_times, Times{20});
  EXPECT_EQ(d.test, (Pairs{{a, z}, {b, z}}));
  EXPECT_EQ(d.test_times, (Times{50, 40}));
  EXPECT_EQ(report.duplicate_interactions, 1);  // (a, x) at 60 merged into the one at 10
  EXPECT_EQ(d.metadata.at("split"), "temporal per user, test fraction 0.34, valid fraction 0.34");
}

TEST(TemporalGlobalSplit, OneTimeCutKeepsTiesTogether) {
  TempDir dir;
  // 6 distinct pairs by time: 10 20 30 40 50 50. Test: the round(0.34 * 6) = 2 latest, from
  // time 50; valid: the one before, from time 40.
  Dataset d = importDataset(timed(dir, SplitMethod::kTemporalGlobal, 0.34, 0.2));
  validateDataset(d);
  EXPECT_EQ(d.train, (Pairs{{a, x}, {a, y}, {b, x}}));
  EXPECT_EQ(d.valid, (Pairs{{b, z}}));
  EXPECT_EQ(d.test, (Pairs{{a, z}, {c, y}}));
  EXPECT_EQ(d.test_times, (Times{50, 50}));
  EXPECT_TRUE(contains(d.metadata.at("split"), "test from time 50, valid from time 40"));
  // One test pair asked for: the cut falls at time 50, and both pairs of that time go to test.
  d = importDataset(timed(dir, SplitMethod::kTemporalGlobal, 0.17, 0.0));
  EXPECT_EQ(d.test, (Pairs{{a, z}, {c, y}}));
  EXPECT_TRUE(d.valid.empty());
  EXPECT_EQ(d.train.size(), 4u);
}

TEST(RandomSplit, ValidShareIsSeededAndDisjoint) {
  TempDir dir;
  std::string lines = "user\titem\n";
  for (int u = 0; u < 5; ++u) {
    for (int i = 0; i < 10; ++i) lines += "u" + std::to_string(u) + "\ti" + std::to_string(i) + "\n";
  }
  ImportOptions o;
  o.format = InputFormat::kCsv;
  o.train = dir.write("all.tsv", lines);
  o.test_fraction = 0.2;
  o.valid_fraction = 0.1;
  const Dataset d = importDataset(o);
  validateDataset(d);
  EXPECT_EQ(d.test.size(), 10u);  // 2 per user
  EXPECT_EQ(d.valid.size(), 5u);  // 1 per user
  EXPECT_EQ(d.train.size(), 35u);
  for (const Interaction& v : d.valid) {
    EXPECT_FALSE(std::binary_search(d.test.begin(), d.test.end(), v));
    EXPECT_FALSE(std::binary_search(d.train.begin(), d.train.end(), v));
  }
  EXPECT_EQ(importDataset(o).valid, d.valid);
  // The test draws come first, so a validation share leaves the test split as it was.
  o.valid_fraction = 0.0;
  EXPECT_EQ(importDataset(o).test, d.test);
}

TEST(SplitOptions, Errors) {
  TempDir dir;
  ImportOptions o = timed(dir, SplitMethod::kTemporalUser, 0.5, 0.5);
  EXPECT_TRUE(contains(thrownMessage<ConfigError>([&] { importDataset(o); }), "valid fraction 0.5"));
  o = timed(dir, SplitMethod::kTemporalUser, 0.2, 0.0);
  o.test = o.train;
  EXPECT_TRUE(contains(thrownMessage<ConfigError>([&] { importDataset(o); }), "with --test the files are the split"));
  EXPECT_EQ(parseSplitMethod("temporal-global"), SplitMethod::kTemporalGlobal);
  EXPECT_STREQ(splitMethodName(SplitMethod::kTemporalUser), "temporal-user");
  EXPECT_THROW(parseSplitMethod("time"), ConfigError);
}

}  // namespace
}  // namespace kgrec
