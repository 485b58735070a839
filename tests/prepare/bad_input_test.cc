// Bad input files (InputError naming file and line) and bad option combinations (ConfigError).

#include <gtest/gtest.h>

#include "engine/common/error.h"
#include "engine/prepare/importers.h"
#include "tests/prepare/test_files.h"

namespace kgrec {
namespace {

void expectConfigError(const ImportOptions& o, const std::string& fragment) {
  const std::string message = thrownMessage<ConfigError>([&] { importDataset(o); });
  EXPECT_TRUE(contains(message, fragment)) << message;
}

class BadInput : public ::testing::Test {
 protected:
  // A valid LightGCN pair of files; tests replace one piece.
  ImportOptions lightgcn() const {
    ImportOptions o;
    o.train = dir_.write("train.txt", "0 0 1\n1 1 2\n");
    o.test = dir_.write("test.txt", "0 2\n");
    return o;
  }
  ImportOptions tsv() const {
    ImportOptions o;
    o.format = InputFormat::kTsv;
    o.train = dir_.write("train.tsv", "a\tx\nb\ty\na\ty\n");
    return o;
  }
  TempDir dir_;
};

TEST_F(BadInput, MissingFileNamesIt) {
  ImportOptions o = lightgcn();
  o.test = dir_.path("no_such_test.txt");
  const std::string message = thrownMessage<InputError>([&] { importDataset(o); });
  EXPECT_TRUE(contains(message, o.test + ": file not found")) << message;
}

TEST_F(BadInput, EmptyFileNamesIt) {
  ImportOptions o = lightgcn();
  o.train = dir_.write("empty.txt", "");
  const std::string message = thrownMessage<InputError>([&] { importDataset(o); });
  EXPECT_TRUE(contains(message, o.train + ": file is empty")) << message;
}

TEST_F(BadInput, NonNumericId) {
  ImportOptions o = lightgcn();
  o.train = dir_.write("train.txt", "0 1\n1 2 x3\n");
  expectInputError(o, o.train, 2, "item id 'x3' is not an integer");
}

TEST_F(BadInput, NegativeId) {
  ImportOptions o = lightgcn();
  o.test = dir_.write("test.txt", "0 1\n\n-1 2\n");
  expectInputError(o, o.test, 3, "user id -1 is out of range");
}

TEST_F(BadInput, PairsWrongFieldCount) {
  ImportOptions o = lightgcn();
  o.format = InputFormat::kPairs;
  o.train = dir_.write("train_pos.txt", "0 1 1\n7\n");
  expectInputError(o, o.train, 2, "expected 'user item [...]'");
}

TEST_F(BadInput, TsvWrongFieldCountAndBadRating) {
  ImportOptions o = tsv();
  o.test = dir_.write("test.tsv", "a\tb\t1\t2\t3\n");
  expectInputError(o, o.test, 1, "expected 'user<TAB>item[<TAB>rating[<TAB>timestamp]]'");
  o.test = dir_.write("test.tsv", "#header\na\tb\tfive\n");
  expectInputError(o, o.test, 2, "rating 'five' is not a number");
}

TEST_F(BadInput, NumericKgWrongFieldsAndRelation) {
  ImportOptions o = lightgcn();
  o.kg = dir_.write("kg.txt", "0 0 5\n1 5\n");
  expectInputError(o, o.kg, 2, "expected 'head relation tail'");
  o.kg = dir_.write("kg.txt", "0 0 5\n1 likes 5\n");
  expectInputError(o, o.kg, 2, "KG relation id 'likes' is not an integer");
}

TEST_F(BadInput, ItemIdBeyondGivenKgItems) {
  ImportOptions o = lightgcn();
  o.kg = dir_.write("kg.txt", "0 0 5\n");
  o.kg_items = 2;  // but the training file uses item 2
  expectInputError(o, o.train, 2, "item id 2 is out of range [0, 1]");
}

TEST_F(BadInput, TsvKgWrongFieldCount) {
  ImportOptions o = tsv();
  o.kg = dir_.write("kg.tsv", "x\tgenre\tpop\ny\tgenre\n");
  expectInputError(o, o.kg, 2, "expected 'head<TAB>relation<TAB>tail'");
}

TEST_F(BadInput, TextForUnknownItemOrEntity) {
  ImportOptions o = lightgcn();
  o.text = dir_.write("items.tsv", "0\tfirst\n3\tno such item\n");
  expectInputError(o, o.text, 2, "unknown item id '3'");
  o = tsv();
  o.entity_text = dir_.write("entities.tsv", "pop\tPop music\n");
  expectInputError(o, o.entity_text, 1, "unknown entity id 'pop'");
}

TEST_F(BadInput, TextNotUtf8OrWithoutTab) {
  ImportOptions o = tsv();
  o.text = dir_.write("items.tsv", "x\tfine\ny\tcaf\xe9\n");
  expectInputError(o, o.text, 2, "not UTF-8; convert it");
  o.text = dir_.write("items.tsv", "x no tab here\n");
  expectInputError(o, o.text, 1, "expected 'item id<TAB>text'");
}

TEST_F(BadInput, MovieLensBadFiles) {
  ImportOptions o;
  o.format = InputFormat::kMovieLens;
  o.movielens_dir = dir_.dir();
  dir_.write("u.genre", "unknown|0\nAction|1\n");
  const std::string item = dir_.write("u.item", "1|A (1990)|||url|0|1\n2|B (1991)|||url|0|2\n");
  const std::string data = dir_.write("u.data", "1\t1\t5\t0\n");
  expectInputError(o, item, 2, "genre flag 2 is out of range [0, 1]");
  dir_.write("u.item", "1|A (1990)|||url|0|1\n2|B (1991)|||url|0\n");
  expectInputError(o, item, 2, "expected 7 '|'-separated fields");
  dir_.write("u.item", "1|A (1990)|||url|0|1\n1|B (1991)|||url|0|1\n");
  expectInputError(o, item, 2, "movie id 1 appears twice");
  dir_.write("u.item", "1|A (1990)|||url|0|1\n");
  dir_.write("u.data", "1\t1\t5\t0\n1\t9\t5\t0\n");
  expectInputError(o, data, 2, "movie id '9' is not in u.item");
  dir_.write("u.data", "1\t1\t5\n");
  expectInputError(o, data, 1, "expected 'user<TAB>item<TAB>rating<TAB>timestamp'");
}

TEST_F(BadInput, Ml1mMoviesWrongFieldCount) {
  ImportOptions o;
  o.format = InputFormat::kMovieLens;
  o.movielens_dir = dir_.dir();
  const std::string movies = dir_.write("movies.dat", "1::A (1990)::Drama\n2::B (1991)\n");
  dir_.write("ratings.dat", "1::1::5::0\n");
  expectInputError(o, movies, 2, "expected 'id::title::genres'");
}

TEST_F(BadInput, OptionErrors) {
  ImportOptions o = lightgcn();
  o.test.clear();
  expectConfigError(o, "format lightgcn needs a test file");

  o = lightgcn();
  o.train.clear();
  expectConfigError(o, "needs a training file");

  for (double fraction : {0.0, 1.0, -0.1}) {
    o = tsv();
    o.test_fraction = fraction;
    expectConfigError(o, "must lie strictly between 0 and 1");
  }

  o = lightgcn();
  o.kg_items = 10;
  expectConfigError(o, "kg items applies to a numeric KG file");

  o = lightgcn();
  o.min_rating = 4;
  expectConfigError(o, "carries no ratings");

  o = lightgcn();
  o.movielens_dir = dir_.dir();
  expectConfigError(o, "needs format movielens");

  o = ImportOptions();
  o.format = InputFormat::kMovieLens;
  expectConfigError(o, "needs a MovieLens folder");
  o.movielens_dir = dir_.dir();
  expectConfigError(o, "neither u.data + u.item");
  o.train = dir_.write("train.txt", "0 1\n");
  expectConfigError(o, "do not give interaction or KG files");

  o = ImportOptions();
  o.format = InputFormat::kMovieLens;
  o.movielens_dir = dir_.dir();
  dir_.write("u.data", "1\t1\t5\t0\n");
  dir_.write("u.item", "1|A (1990)|||url|0\n");
  expectConfigError(o, "no u.genre");
}

}  // namespace
}  // namespace kgrec
