// Format recbole on the hand-made fixture tests/prepare/fixtures/recbole/tiny (.inter, .item,
// .kg, .link), on RecBole's benchmark split files, and on bad atomic files.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "engine/common/error.h"
#include "engine/prepare/importers.h"
#include "tests/prepare/test_files.h"

namespace kgrec {
namespace {

const std::string kTiny = std::string(KGREC_SOURCE_DIR) + "/tests/prepare/fixtures/recbole/tiny";

ImportOptions recbole(const std::string& dir) {
  ImportOptions o;
  o.format = InputFormat::kRecBole;
  o.recbole_dir = dir;
  return o;
}

TEST(RecBoleImporter, TinyFixtureWithItemsKgAndLinks) {
  ImportOptions o = recbole(kTiny);
  o.split = SplitMethod::kTemporalUser;
  o.test_fraction = 0.34;
  const Dataset d = importDataset(o);
  validateDataset(d);
  EXPECT_EQ(d.name, "tiny");
  EXPECT_EQ(d.user_ids, (std::vector<std::string>{"u1", "u2", "u3"}));
  // i5 is only in tiny.item: an item without interactions.
  EXPECT_EQ(d.item_ids, (std::vector<std::string>{"i1", "i2", "i3", "i4", "i5"}));
  EXPECT_EQ(d.item_texts, (std::vector<std::string>{"Toy Story. Animation Comedy",
                                                    "Heat. Action Crime", "Casino. Drama",
                                                    "Sabrina", "Unrated Film. Drama"}));
  // Linked entities are their items; i9's link names no item, so m.other stays an entity.
  EXPECT_EQ(d.entity_ids,
            (std::vector<std::string>{"m.lasseter", "m.mann", "m.drama", "m.usa", "m.other"}));
  EXPECT_EQ(d.triples.size(), 5u);
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 0, "film.director", NodeType::kEntity, 0));
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 1, "film.director", NodeType::kEntity, 1));
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 2, "film.genre", NodeType::kEntity, 2));
  EXPECT_TRUE(hasTriple(d, NodeType::kEntity, 0, "people.born_in", NodeType::kEntity, 3));
  EXPECT_TRUE(hasTriple(d, NodeType::kEntity, 4, "film.director", NodeType::kEntity, 1));
  // Each user's latest item (u3 has one, kept in train).
  EXPECT_EQ(d.test, (std::vector<Interaction>{{0, 2}, {1, 3}}));
  EXPECT_EQ(d.test_times, (std::vector<std::int64_t>{300, 350}));
  EXPECT_EQ(d.train.size(), 5u);
  EXPECT_EQ(d.metadata.at("importer"), "recbole");
  EXPECT_EQ(d.metadata.at("source.link"), kTiny + "/tiny.link");

  o.min_rating = 4;
  o.movielens_kg = false;  // --no-kg: .kg and .link are not read
  const Dataset liked = importDataset(o);
  EXPECT_TRUE(liked.triples.empty());
  EXPECT_EQ(liked.train.size() + liked.test.size(), 5u);  // ratings 4 and 5
}

TEST(RecBoleImporter, BenchmarkSplitFilesAndKgWithoutLinks) {
  TempDir dir;
  const std::string header = "user_id:token\titem_id:token\n";
  dir.write("bench.train.inter", header + "u1\ti1\nu1\ti2\nu2\ti2\n");
  dir.write("bench.valid.inter", header + "u2\ti1\n");
  dir.write("bench.test.inter", header + "u1\ti3\n");
  // Without a .link file a KG id that is an item id is that item.
  dir.write("bench.kg", "head_id:token\trelation_id:token\ttail_id:token\ni1\tr\te1\ne1\tr\ti3\n");
  ImportOptions o = recbole(dir.dir());
  o.recbole_name = "bench";
  const Dataset d = importDataset(o);
  validateDataset(d);
  EXPECT_EQ(d.name, "bench");
  EXPECT_EQ(d.train.size(), 3u);
  EXPECT_EQ(d.valid, (std::vector<Interaction>{{1, 0}}));
  EXPECT_EQ(d.test, (std::vector<Interaction>{{0, 2}}));
  EXPECT_FALSE(d.hasTimestamps());
  EXPECT_EQ(d.metadata.at("split"), "from files");
  EXPECT_TRUE(hasTriple(d, NodeType::kItem, 0, "r", NodeType::kEntity, 0));
  EXPECT_TRUE(hasTriple(d, NodeType::kEntity, 0, "r", NodeType::kItem, 2));
  o.split = SplitMethod::kTemporalGlobal;
  EXPECT_THROW(importDataset(o), ConfigError);
}

TEST(RecBoleImporter, BadAtomicFiles) {
  TempDir dir;
  ImportOptions o = recbole(dir.dir());
  o.recbole_name = "x";
  EXPECT_TRUE(contains(thrownMessage<ConfigError>([&] { importDataset(o); }),
                       "holds neither x.inter nor x.train.inter + x.test.inter"));
  auto expectInput = [&](const std::string& file, int line, const std::string& fragment) {
    const std::string message = thrownMessage<InputError>([&] { importDataset(o); });
    EXPECT_TRUE(contains(message, dir.path(file) + ":" + std::to_string(line) + ": ")) << message;
    EXPECT_TRUE(contains(message, fragment)) << message;
  };
  dir.write("x.inter", "user_id\titem_id:token\nu\ti\n");
  expectInput("x.inter", 1, "header field 'user_id' is not 'name:type'");
  dir.write("x.inter", "user_id:token\titem_id:float\nu\ti\n");
  expectInput("x.inter", 1, "field 'item_id' is of type float, expected token");
  dir.write("x.inter", "user_id:token\titem_id:token\trating:float\nu\ti\t5\nu\tj\n");
  expectInput("x.inter", 3, "expected 3 tab-separated fields");
  dir.write("x.inter", "user_id:token\titem_id:token\nu\ti\nu\tj\n");
  dir.write("x.item", "item_id:token\ttitle:token_seq\ni\tA\ni\tB\n");
  expectInput("x.item", 3, "item id 'i' appears twice");
  dir.write("x.item", "item:token\ttitle:token_seq\ni\tA\n");
  expectInput("x.item", 1, "the header has no 'item_id' field");
  dir.write("x.item", "item_id:token\ttitle:token_seq\ni\tA\n");
  dir.write("x.kg", "head_id:token\trelation_id:token\ttail_id:token\ni\tr\te\n");
  dir.write("x.link", "item_id:token\tentity_id:token\ni\te1\nj\te1\n");
  expectInput("x.link", 3, "an item links to one entity and an entity to one item");
  dir.write("x.link", "item_id:token\tentity_id:token\ni\te1\n");
  dir.write("x.kg", "head_id:token\trelation_id:token\ni\tr\n");
  expectInput("x.kg", 1, "the header has no 'tail_id' field");
}

}  // namespace
}  // namespace kgrec
