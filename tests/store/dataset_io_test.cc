#include "engine/store/dataset_io.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/common/error.h"
#include "engine/graph/dataset_builder.h"
#include "engine/graph/synthetic.h"
#include "engine/store/hdf5_file.h"
#include "tests/graph/dataset_testing.h"
#include "tests/store/temp_dir.h"

namespace kgrec {
namespace {

using DatasetIoTest = TempDirTest;

Dataset smallDataset() {
  DatasetBuilder b("small");
  const auto alice = b.intern(NodeType::kUser, "alice");
  const auto bob = b.intern(NodeType::kUser, "bob");
  const auto book = b.intern(NodeType::kItem, "book");
  const auto film = b.intern(NodeType::kItem, "film");
  const auto song = b.intern(NodeType::kItem, "song");
  b.addInteraction(Split::kTrain, alice, book);
  b.addInteraction(Split::kTrain, alice, film);
  b.addInteraction(Split::kTrain, bob, film);
  b.addInteraction(Split::kValid, bob, book);
  b.addInteraction(Split::kTest, bob, song);
  const auto genre = b.relation("genre");
  const auto author = b.relation("author");
  const auto drama = b.intern(NodeType::kEntity, "drama");
  const auto smith = b.intern(NodeType::kEntity, "smith");
  b.addTriple({NodeType::kItem, book}, genre, {NodeType::kEntity, drama});
  b.addTriple({NodeType::kItem, book}, author, {NodeType::kEntity, smith});
  b.addTriple({NodeType::kEntity, smith}, genre, {NodeType::kEntity, drama});
  b.setText(NodeType::kItem, book, "a book about ünïcode");
  b.setText(NodeType::kEntity, drama, "drama");
  b.setMetadata("importer", "test");
  b.setMetadata("source", "/data/x.txt");
  return b.build();
}

std::string errorOf(const std::string& path) {
  try {
    readDataset(path);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "no FormatError";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(DatasetIoTest, SmallDatasetRoundTrips) {
  const Dataset d = smallDataset();
  writeDataset(d, path("small.h5"), false);
  expectSameDataset(readDataset(path("small.h5")), d);
  EXPECT_EQ(files(), std::vector<std::string>{"small.h5"});  // no temporary left
}

TEST_F(DatasetIoTest, SyntheticDatasetRoundTrips) {
  SyntheticOptions options;
  options.valid_fraction = 0.1;
  const Dataset d = generateSynthetic(options);
  writeDataset(d, path("syn.h5"), false);
  expectSameDataset(readDataset(path("syn.h5")), d);

  const DatasetSummary s = readDatasetSummary(path("syn.h5"));
  EXPECT_EQ(s.name, d.name);
  EXPECT_EQ(s.num_users, d.nodes.num_users);
  EXPECT_EQ(s.num_items, d.nodes.num_items);
  EXPECT_EQ(s.num_entities, d.nodes.num_entities);
  EXPECT_EQ(s.num_edges, d.graph.numEdges());
  EXPECT_EQ(s.num_kg_relations, d.numKgRelations());
  EXPECT_EQ(s.num_triples, static_cast<std::int64_t>(d.triples.size()));
  EXPECT_EQ(s.num_train, static_cast<std::int64_t>(d.train.size()));
  EXPECT_EQ(s.num_valid, static_cast<std::int64_t>(d.valid.size()));
  EXPECT_EQ(s.num_test, static_cast<std::int64_t>(d.test.size()));
}

TEST_F(DatasetIoTest, TimestampsRoundTripAndAreOptional) {
  DatasetBuilder b("timed");
  b.addInteraction(Split::kTrain, 0, 1, 1700000000);
  b.addInteraction(Split::kTrain, 0, 0, -5);
  b.addInteraction(Split::kTest, 1, 1, INT64_MAX);
  const Dataset d = b.build();
  ASSERT_TRUE(d.hasTimestamps());
  writeDataset(d, path("timed.h5"), false);
  const Dataset back = readDataset(path("timed.h5"));
  expectSameDataset(back, d);
  EXPECT_EQ(back.train_times, (std::vector<std::int64_t>{-5, 1700000000}));
  EXPECT_EQ(back.test_times, std::vector<std::int64_t>{INT64_MAX});
  // A file without /time datasets (all files before timestamps were kept) has none.
  writeDataset(smallDataset(), path("untimed.h5"), false);
  EXPECT_FALSE(Hdf5File::openRead(path("untimed.h5")).has("/interactions/train/time"));
  EXPECT_FALSE(readDataset(path("untimed.h5")).hasTimestamps());
  // Times of one split only: a damaged file.
  {
    Hdf5File f = Hdf5File::openWrite(path("untimed.h5"));
    f.writeVector("/interactions/train/time", std::vector<std::int64_t>{1, 2, 3});
    f.close();
  }
  const std::string message = errorOf(path("untimed.h5"));
  EXPECT_TRUE(contains(message, "valid: 0 timestamps for 1 interactions")) << message;
}

TEST_F(DatasetIoTest, EmptyDatasetRoundTrips) {
  const Dataset d = DatasetBuilder("empty").build();
  writeDataset(d, path("empty.h5"), false);
  expectSameDataset(readDataset(path("empty.h5")), d);
}

TEST_F(DatasetIoTest, OverwriteIsRefusedUnlessAsked) {
  writeDataset(smallDataset(), path("d.h5"), false);
  const auto size = std::filesystem::file_size(path("d.h5"));
  Dataset other = generateSynthetic(SyntheticOptions{});
  EXPECT_THROW(writeDataset(other, path("d.h5"), false), ConfigError);
  EXPECT_EQ(std::filesystem::file_size(path("d.h5")), size);
  writeDataset(other, path("d.h5"), true);
  EXPECT_EQ(readDataset(path("d.h5")).nodes.num_users, other.nodes.num_users);
  EXPECT_EQ(files(), std::vector<std::string>{"d.h5"});
}

TEST_F(DatasetIoTest, FailedWriteLeavesNothingBehind) {
  writeDataset(smallDataset(), path("d.h5"), false);
  const auto size = std::filesystem::file_size(path("d.h5"));
  // Inconsistent text table: found after the graph has been written to the temporary file.
  Dataset broken = generateSynthetic(SyntheticOptions{});
  broken.entity_texts.pop_back();
  EXPECT_THROW(writeDataset(broken, path("d.h5"), true), Error);
  EXPECT_THROW(writeDataset(broken, path("new.h5"), false), Error);
  EXPECT_EQ(files(), std::vector<std::string>{"d.h5"});
  EXPECT_EQ(std::filesystem::file_size(path("d.h5")), size);
  EXPECT_EQ(readDataset(path("d.h5")).name, "small");
}

TEST_F(DatasetIoTest, WrongMagicIsRejected) {
  {
    Hdf5File f = Hdf5File::create(path("other.h5"));
    f.setAttribute("/", "magic", "kgrec-checkpoint");
    f.setAttribute("/", "format_version", std::int64_t{1});
    f.close();
  }
  EXPECT_TRUE(contains(errorOf(path("other.h5")), "not a kgrec dataset"))
      << errorOf(path("other.h5"));
  {
    Hdf5File f = Hdf5File::create(path("plain.h5"));
    f.writeVector("/x", std::vector<float>{1.0f});
    f.close();
  }
  EXPECT_TRUE(contains(errorOf(path("plain.h5")), "not a kgrec dataset"));
  EXPECT_THROW(readDatasetSummary(path("plain.h5")), FormatError);
}

TEST_F(DatasetIoTest, OtherFormatVersionIsRejectedWithAdvice) {
  {
    Hdf5File f = Hdf5File::create(path("v2.h5"));
    f.setAttribute("/", "magic", kDatasetMagic);
    f.setAttribute("/", "format_version", std::int64_t{kDatasetFormatVersion + 1});
    f.close();
  }
  const std::string message = errorOf(path("v2.h5"));
  EXPECT_TRUE(contains(message, "v2.h5")) << message;
  EXPECT_TRUE(contains(message, fmt::format("version {}", kDatasetFormatVersion + 1))) << message;
  EXPECT_TRUE(contains(message, fmt::format("reads version {}", kDatasetFormatVersion))) << message;
  EXPECT_TRUE(contains(message, "re-run kgrec prepare")) << message;
}

TEST_F(DatasetIoTest, MissingFileIsAFormatError) {
  EXPECT_TRUE(contains(errorOf(path("absent.h5")), "absent.h5"));
  EXPECT_THROW(readDatasetSummary(path("absent.h5")), FormatError);
}

TEST_F(DatasetIoTest, DamagedFilesAreFormatErrors) {
  writeDataset(generateSynthetic(SyntheticOptions{}), path("good.h5"), false);
  std::string bytes;
  {
    std::ifstream in(path("good.h5"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (double keep : {0.0, 0.01, 0.5, 0.9, 0.999}) {
    const std::string damaged = path("cut.h5");
    {
      std::ofstream out(damaged, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() * keep));
    }
    EXPECT_THROW(readDataset(damaged), FormatError) << "kept " << keep;
  }
  {
    std::ofstream out(path("noise.h5"), std::ios::binary);
    for (int k = 0; k < 4096; ++k) out.put(static_cast<char>(k * 131 % 251));
  }
  EXPECT_THROW(readDataset(path("noise.h5")), FormatError);
}

TEST_F(DatasetIoTest, InconsistentContentIsRejectedByValidation) {
  const Dataset d = smallDataset();
  // Right magic and version, but no content.
  {
    Hdf5File f = Hdf5File::create(path("bad.h5"));
    f.setAttribute("/", "magic", kDatasetMagic);
    f.setAttribute("/", "format_version", std::int64_t{kDatasetFormatVersion});
    f.close();
  }
  EXPECT_TRUE(contains(errorOf(path("bad.h5")), "bad.h5"));
  // An out-of-range item, as a buggy or foreign writer might store.
  Dataset out_of_range = d;
  out_of_range.test[0].item = 99;
  writeDataset(out_of_range, path("range.h5"), false);
  const std::string message = errorOf(path("range.h5"));
  EXPECT_TRUE(contains(message, "range.h5")) << message;
  EXPECT_TRUE(contains(message, "out of range")) << message;
}

TEST_F(DatasetIoTest, UnknownGroupsAreIgnored) {
  // Later commands add groups (kgrec embed writes /features/lm); this reader must not mind.
  const Dataset d = smallDataset();
  writeDataset(d, path("d.h5"), false);
  {
    Hdf5File f = Hdf5File::openWrite(path("d.h5"));
    const std::vector<float> lm(d.nodes.num_items * 4, 0.25f);
    f.writeMatrix("/features/lm", lm.data(), d.nodes.num_items, 4);
    f.setAttribute("/features", "encoder", "minilm");
    f.close();
  }
  expectSameDataset(readDataset(path("d.h5")), d);
  EXPECT_EQ(Hdf5File::openRead(path("d.h5")).readMatrix("/features/lm").rows, d.nodes.num_items);
}

}  // namespace
}  // namespace kgrec
