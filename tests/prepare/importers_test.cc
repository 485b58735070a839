// Every importer on small, good inputs: exact counts, ids, texts and KG mapping.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "engine/common/error.h"
#include "engine/prepare/importers.h"
#include "tests/prepare/test_files.h"

namespace kgrec {
namespace {

std::vector<Interaction> pairs(std::initializer_list<std::pair<int, int>> list) {
  std::vector<Interaction> out;
  for (auto [u, i] : list) out.push_back({u, i});
  return out;
}

TEST(ParseInputFormat, NamesAndUnknown) {
  EXPECT_EQ(parseInputFormat("lightgcn"), InputFormat::kLightGcn);
  EXPECT_EQ(parseInputFormat("pairs"), InputFormat::kPairs);
  EXPECT_EQ(parseInputFormat("movielens"), InputFormat::kMovieLens);
  EXPECT_EQ(parseInputFormat("tsv"), InputFormat::kTsv);
  EXPECT_STREQ(inputFormatName(InputFormat::kTsv), "tsv");
  EXPECT_EQ(parseInputFormat("csv"), InputFormat::kCsv);
  EXPECT_EQ(parseInputFormat("recbole"), InputFormat::kRecBole);
  EXPECT_TRUE(contains(thrownMessage<ConfigError>([] { parseInputFormat("xlsx"); }), "'xlsx'"));
}

TEST(LightGcnImporter, KeepsNumericIdsAndMergesDuplicates) {
  TempDir dir;
  ImportOptions o;
  // User 2 has no items; user 3 repeats item 0; item 3 only appears in test.
  o.train = dir.write("train.txt", "0 1 2\n1 2\n2\n\n3 0 0\n");
  o.test = dir.write("test.txt", "0 3\r\n1 0\r\n");
  BuildReport report;
  const Dataset d = importDataset(o, &report);
  validateDataset(d);
  EXPECT_EQ(d.nodes.num_users, 4);
  EXPECT_EQ(d.nodes.num_items, 4);
  EXPECT_EQ(d.nodes.num_entities, 0);
  EXPECT_EQ(d.train, pairs({{0, 1}, {0, 2}, {1, 2}, {3, 0}}));
  EXPECT_EQ(d.test, pairs({{0, 3}, {1, 0}}));
  EXPECT_EQ(report.duplicate_interactions, 1);
  EXPECT_EQ(report.users_without_train, 1);
  EXPECT_EQ(report.items_without_train, 1);
  EXPECT_EQ(d.user_ids, (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(d.name, std::filesystem::path(dir.dir()).filename().string());
  EXPECT_EQ(d.metadata.at("importer"), "lightgcn");
  EXPECT_EQ(d.metadata.at("source.train"), o.train);
  EXPECT_EQ(d.metadata.at("source.test"), o.test);
}

TEST(LightGcnImporter, NumericKgMapsItemsAndEntities) {
  TempDir dir;
  ImportOptions o;
  o.name = "tiny";
  o.train = dir.write("train.txt", "0 0 1\n1 2 3\n");
  o.test = dir.write("test.txt", "0 2\n");
  // Items are KG ids 0..3 (items seen); 4 and 6 are entities 0 and 2 (5 is unused).
  o.kg = dir.write("kg.txt", "0 0 4\n1\t1\t6\n4 0 1\n0 0 4\n");
  o.text = dir.write("items.tsv", "2\tsecond item\n");
  o.entity_text = dir.write("entities.tsv", "6\tentity six\n");
  BuildReport report;
  const Dataset d = importDataset(o, &report);
  validateDataset(d);
  EXPECT_EQ(d.name, "tiny");
  EXPECT_EQ(d.nodes.num_items, 4);
  EXPECT_EQ(d.nodes.num_entities, 3);
  EXPECT_EQ(d.entity_ids, (std::vector<std::string>{"4", "5", "6"}));
  EXPECT_EQ(d.relation_names,
            (std::vector<std::string>{"interacts", "interacted_by", "r0", "r0_reverse", "r1",
                                      "r1_reverse"}));
  EXPECT_EQ(d.triples.size(), 3u);
  EXPECT_EQ(report.duplicate_triples, 1);
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 0, "r0", NodeType::kEntity, 0));
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 1, "r1", NodeType::kEntity, 2));
  EXPECT_TRUE(hasTriple(d, NodeType::kEntity, 0, "r0", NodeType::kItem, 1));
  EXPECT_EQ(d.item_texts, (std::vector<std::string>{"", "", "second item", ""}));
  EXPECT_EQ(d.entity_texts, (std::vector<std::string>{"", "", "entity six"}));
  EXPECT_EQ(d.metadata.at("option.kg_items"), "4");
  EXPECT_EQ(d.metadata.at("source.kg"), o.kg);
}

TEST(LightGcnImporter, GivenKgItemsMakesMoreItems) {
  TempDir dir;
  ImportOptions o;
  o.train = dir.write("train.txt", "0 0 1\n");
  o.test = dir.write("test.txt", "0 2\n");
  o.kg = dir.write("kg.txt", "0 0 4\n1 0 5\n");
  o.kg_items = 5;  // KG id 4 is an item without interactions, 5 the first entity
  const Dataset d = importDataset(o);
  validateDataset(d);
  EXPECT_EQ(d.nodes.num_items, 5);
  EXPECT_EQ(d.nodes.num_entities, 1);
  EXPECT_EQ(d.entity_ids, std::vector<std::string>{"5"});
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 0, "r0", NodeType::kItem, 4));
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 1, "r0", NodeType::kEntity, 0));
}

TEST(PairsImporter, ReadsTabOrSpaceWithExtraColumns) {
  TempDir dir;
  ImportOptions o;
  o.format = InputFormat::kPairs;
  o.train = dir.write("train_pos.txt", "0\t1\t1\n0 2 1\n1\t1\n");
  o.test = dir.write("test.txt", "1 2 1\n");
  o.valid = dir.write("valid.txt", "0 0\n");
  const Dataset d = importDataset(o);
  validateDataset(d);
  EXPECT_EQ(d.nodes.num_users, 2);
  EXPECT_EQ(d.nodes.num_items, 3);
  EXPECT_EQ(d.train, pairs({{0, 1}, {0, 2}, {1, 1}}));
  EXPECT_EQ(d.test, pairs({{1, 2}}));
  EXPECT_EQ(d.valid, pairs({{0, 0}}));
  EXPECT_EQ(d.metadata.at("importer"), "pairs");
  EXPECT_EQ(d.metadata.at("source.valid"), o.valid);
}

TEST(TsvImporter, InternsStringIdsFiltersRatingsAndMapsKg) {
  TempDir dir;
  ImportOptions o;
  o.format = InputFormat::kTsv;
  o.min_rating = 4;
  o.train = dir.write("train.tsv",
                      "# user\titem\trating\nalice\tbook1\t5\nbob\tbook2\t3\nalice\tbook2\t4.5\n"
                      "carol\tbook1\n");
  o.test = dir.write("test.tsv", "bob\tbook1\t4\n");
  o.kg = dir.write("kg.tsv", "book1\tauthor\tjane\nbook2\t7\tbook1\njane\tborn_in\tlondon\n");
  o.text = dir.write("items.tsv", "book2\tA book about caf\xc3\xa9s\n");
  o.entity_text = dir.write("entities.tsv", "jane\tJane Doe\n");
  const Dataset d = importDataset(o);
  validateDataset(d);
  // bob/book2 (rating 3) is filtered out, so bob first appears in the test file.
  EXPECT_EQ(d.user_ids, (std::vector<std::string>{"alice", "carol", "bob"}));
  EXPECT_EQ(d.item_ids, (std::vector<std::string>{"book1", "book2"}));
  EXPECT_EQ(d.entity_ids, (std::vector<std::string>{"jane", "london"}));
  EXPECT_EQ(d.train, pairs({{0, 0}, {0, 1}, {1, 0}}));
  EXPECT_EQ(d.test, pairs({{2, 0}}));
  EXPECT_EQ(d.relation_names[2], "author");
  EXPECT_EQ(d.relation_names[4], "r7");
  EXPECT_EQ(d.relation_names[6], "born_in");
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 0, "author", NodeType::kEntity, 0));
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 1, "r7", NodeType::kItem, 0));
  EXPECT_TRUE(hasTriple(d, NodeType::kEntity, 0, "born_in", NodeType::kEntity, 1));
  EXPECT_EQ(d.item_texts, (std::vector<std::string>{"", "A book about caf\xc3\xa9s"}));
  EXPECT_EQ(d.entity_texts, (std::vector<std::string>{"Jane Doe", ""}));
}

TEST(TsvImporter, SeededPerUserSplitWithoutTestFile) {
  TempDir dir;
  std::string lines;
  for (int i = 0; i < 10; ++i) lines += "u1\ti" + std::to_string(i) + "\n";
  lines += "u2\ti0\nu2\ti0\n";  // one distinct item: stays in train, the duplicate merged
  ImportOptions o;
  o.format = InputFormat::kTsv;
  o.train = dir.write("all.tsv", lines);
  o.test_fraction = 0.3;
  BuildReport report;
  const Dataset a = importDataset(o, &report);
  validateDataset(a);
  EXPECT_EQ(a.test.size(), 3u);
  EXPECT_EQ(a.train.size(), 8u);
  EXPECT_EQ(report.duplicate_interactions, 1);
  EXPECT_EQ(report.eval_pairs_in_train, 0);
  for (const Interaction& x : a.test) EXPECT_EQ(x.user, 0);
  EXPECT_TRUE(contains(a.metadata.at("split"), "seed 1"));

  EXPECT_EQ(importDataset(o).test, a.test);  // same seed, same split
  bool differs = false;
  for (std::uint64_t seed = 2; seed < 6 && !differs; ++seed) {
    o.seed = seed;
    differs = importDataset(o).test != a.test;
  }
  EXPECT_TRUE(differs);
}

// ml-100k layout, with a Latin-1 title, the "unknown" genre and a trailing tab.
void writeMl100k(const TempDir& dir) {
  dir.write("u.genre", "unknown|0\nAction|1\nComedy|2\n\n");
  dir.write("u.item",
            "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|1\n"
            "2|Caf\xe9 Noir (1980)|01-Jan-1980||http://y|0|1|1\n"
            "3|unknown||||1|0|0\n");
  dir.write("u.data", "1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t1\t4\t881250951\n"
                      "2\t3\t1\t881250952\t\n");
}

TEST(MovieLensImporter, Ml100kItemsTextsAndDerivedKg) {
  TempDir dir;
  writeMl100k(dir);
  ImportOptions o;
  o.format = InputFormat::kMovieLens;
  o.movielens_dir = dir.dir() + "/";
  const Dataset d = importDataset(o);
  validateDataset(d);
  EXPECT_EQ(d.name, std::filesystem::path(dir.dir()).filename().string());
  EXPECT_EQ(d.item_ids, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(d.user_ids, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(d.item_texts, (std::vector<std::string>{"Toy Story (1995). Comedy",
                                                    "Caf\xc3\xa9 Noir (1980). Action, Comedy",
                                                    "unknown"}));
  EXPECT_EQ(d.entity_ids, (std::vector<std::string>{"genre:Comedy", "year:1995", "decade:1990s",
                                                    "genre:Action", "year:1980", "decade:1980s"}));
  EXPECT_EQ(d.entity_texts,
            (std::vector<std::string>{"Comedy", "1995", "1990s", "Action", "1980", "1980s"}));
  EXPECT_EQ(d.numKgRelations(), 3);
  EXPECT_EQ(d.triples.size(), 7u);
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 0, "has_genre", NodeType::kEntity, 0));
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 0, "released_in", NodeType::kEntity, 1));
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 1, "in_decade", NodeType::kEntity, 5));
  // Each user has two distinct items: one goes to test.
  EXPECT_EQ(d.train.size(), 2u);
  EXPECT_EQ(d.test.size(), 2u);
  EXPECT_EQ(d.metadata.at("importer"), "movielens");
  EXPECT_EQ(d.metadata.at("source.ratings"), dir.path("u.data"));
}

TEST(MovieLensImporter, NoKgKeepsTextsAndDropsTheDerivedEntities) {
  TempDir dir;
  writeMl100k(dir);
  ImportOptions o;
  o.format = InputFormat::kMovieLens;
  o.movielens_dir = dir.dir();
  o.movielens_kg = false;
  const Dataset d = importDataset(o);
  validateDataset(d);
  EXPECT_TRUE(d.triples.empty());
  EXPECT_TRUE(d.entity_ids.empty());
  EXPECT_EQ(d.item_texts[1], "Caf\xc3\xa9 Noir (1980). Action, Comedy");
  EXPECT_EQ(d.train.size(), 2u);
  o.format = InputFormat::kPairs;  // --no-kg belongs to the derived KG
  o.movielens_dir.clear();
  o.train = dir.path("u.data");
  o.test = dir.path("u.data");
  EXPECT_THROW(importDataset(o), ConfigError);
}

TEST(MovieLensImporter, MinRatingFilters) {
  TempDir dir;
  writeMl100k(dir);
  ImportOptions o;
  o.format = InputFormat::kMovieLens;
  o.movielens_dir = dir.dir();
  o.min_rating = 4;
  const Dataset d = importDataset(o);
  EXPECT_EQ(d.train, pairs({{0, 0}, {1, 0}}));  // one item per user: no test pair
  EXPECT_TRUE(d.test.empty());
}

TEST(MovieLensImporter, Ml1mDoubleColonFormat) {
  TempDir dir;
  dir.write("movies.dat", "1::Star Trek: The Motion Picture (1979)::Action|Sci-Fi\n"
                          "5::Pok\xe9mon (1999)::Children's\n");
  dir.write("ratings.dat", "10::1::5::978300760\n10::5::3::978300761\n");
  ImportOptions o;
  o.format = InputFormat::kMovieLens;
  o.movielens_dir = dir.dir();
  const Dataset d = importDataset(o);
  validateDataset(d);
  EXPECT_EQ(d.item_ids, (std::vector<std::string>{"1", "5"}));
  EXPECT_EQ(d.item_texts[0], "Star Trek: The Motion Picture (1979). Action, Sci-Fi");
  EXPECT_EQ(d.item_texts[1], "Pok\xc3\xa9mon (1999). Children's");
  EXPECT_EQ(d.user_ids, std::vector<std::string>{"10"});
  EXPECT_EQ(d.train.size() + d.test.size(), 2u);
  // Entities of movie 1: Action, Sci-Fi, 1979, 1970s.
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 0, "in_decade", NodeType::kEntity, 3));
  EXPECT_EQ(d.entity_texts[3], "1970s");
}

TEST(MovieLensImporter, Ml1mKeepsTimestamps) {
  TempDir dir;
  dir.write("movies.dat", "1::A (1990)::Drama\n2::B (1991)::Drama\n");
  dir.write("ratings.dat", "10::1::5::978300760\n10::2::3::978300761\n10::1::4::978300700\n");
  ImportOptions o;
  o.format = InputFormat::kMovieLens;
  o.movielens_dir = dir.dir();
  o.split = SplitMethod::kTemporalUser;
  o.test_fraction = 0.5;
  const Dataset d = importDataset(o);
  // Movie 1 was rated first at 978300700 (the earlier of its two ratings), movie 2 later.
  EXPECT_EQ(d.train, pairs({{0, 0}}));
  EXPECT_EQ(d.train_times, std::vector<std::int64_t>{978300700});
  EXPECT_EQ(d.test, pairs({{0, 1}}));
  EXPECT_EQ(d.test_times, std::vector<std::int64_t>{978300761});
}

// The fixture tests/prepare/fixtures/movielens-csv is laid out as MovieLens 20M/25M/32M:
// ratings.csv, movies.csv with quoted titles, tags.csv.
TEST(MovieLensImporter, CsvReleaseLikeMl25m) {
  ImportOptions o;
  o.format = InputFormat::kMovieLens;
  o.movielens_dir = std::string(KGREC_SOURCE_DIR) + "/tests/prepare/fixtures/movielens-csv";
  o.split = SplitMethod::kTemporalUser;
  const Dataset d = importDataset(o);
  validateDataset(d);
  EXPECT_EQ(d.item_ids, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(d.item_texts[0], "Toy Story (1995). Adventure, Animation, Children, Comedy, Fantasy");
  EXPECT_EQ(d.item_texts[1], "American President, The (1995). Comedy, Drama, Romance");
  EXPECT_EQ(d.item_texts[3], "Pok\xc3\xa9mon (1999)");  // "(no genres listed)" is no genre
  EXPECT_EQ(d.item_texts[4], "\"Great Performances\" Cats (1998). Musical");
  EXPECT_EQ(d.user_ids, (std::vector<std::string>{"1", "2"}));
  // Tags: "Pixar" and "pixar" are one entity, " dark comedy" is trimmed.
  const auto tag = [&](const std::string& id) {
    return std::find(d.entity_ids.begin(), d.entity_ids.end(), id) - d.entity_ids.begin();
  };
  ASSERT_LT(tag("tag:pixar"), static_cast<long>(d.entity_ids.size()));
  EXPECT_EQ(d.entity_texts[tag("tag:pixar")], "Pixar");
  EXPECT_EQ(d.entity_texts[tag("tag:dark comedy")], "dark comedy");
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 0, "has_tag", NodeType::kEntity, tag("tag:pixar")));
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 2, "in_decade", NodeType::kEntity, tag("decade:1960s")));
  EXPECT_EQ(d.relation_names[2 * 3 + 2], "has_tag");
  // Each user's latest rating goes to test: user 1 rated movie 1 last, user 2 movie 1 too.
  EXPECT_EQ(d.test, pairs({{0, 0}, {1, 0}}));
  EXPECT_EQ(d.test_times, (std::vector<std::int64_t>{1112486027, 974820889}));
  EXPECT_EQ(d.train_times, (std::vector<std::int64_t>{1112484676, 1112484819, 974820691, 974820720}));
  EXPECT_EQ(d.metadata.at("source.tags"), o.movielens_dir + "/tags.csv");
  o.movielens_kg = false;
  EXPECT_TRUE(importDataset(o).triples.empty());
}

TEST(TsvImporter, Utf8ByteOrderMarkIsNotPartOfTheFirstId) {
  TempDir dir;
  ImportOptions o;
  o.format = InputFormat::kTsv;
  o.train = dir.write("train.tsv", "\xEF\xBB\xBF" "alice\tbook\nalice\tfilm\n");
  o.test = dir.write("test.tsv", "alice\tsong\n");
  const Dataset d = importDataset(o);
  EXPECT_EQ(d.user_ids, std::vector<std::string>{"alice"});
}

}  // namespace
}  // namespace kgrec
