// Original ids back to local indices, and id lists read from files.

#include <gtest/gtest.h>

#include <fstream>

#include "engine/common/error.h"
#include "engine/recommend/id_index.h"
#include "tests/store/temp_dir.h"

namespace kgrec {
namespace {

class IdIndexTest : public TempDirTest {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(path(name)) << text;
    return path(name);
  }
  IdIndex index_{{"u7", "42", "alice smith", "0"}, "user id"};
};

TEST_F(IdIndexTest, FindsOriginalIds) {
  EXPECT_EQ(index_.find("u7"), 0);
  EXPECT_EQ(index_.find("42"), 1);
  EXPECT_EQ(index_.find("alice smith"), 2);
  EXPECT_EQ(index_.find("0"), 3);  // the original id "0", not local index 0
  EXPECT_FALSE(index_.find("u8").has_value());
  EXPECT_FALSE(index_.find("").has_value());
}

TEST_F(IdIndexTest, SurvivesAMove) {
  IdIndex moved = std::move(index_);
  EXPECT_EQ(moved.find("alice smith"), 2);
}

TEST_F(IdIndexTest, RefusesARepeatedId) {
  EXPECT_THROW(IdIndex({"a", "b", "a"}, "item id"), Error);
}

TEST_F(IdIndexTest, ReadsAListInFileOrderSkippingBlanksAndComments) {
  const std::string file = write("users.txt", "# users to serve\n42\n\n  u7\t\r\nalice smith\n42\n0\n");
  EXPECT_EQ(readIdList(file, index_), (std::vector<std::int32_t>{1, 0, 2, 1, 3}));
}

TEST_F(IdIndexTest, NamesFileAndLineOfAnUnknownId) {
  const std::string file = write("users.txt", "42\nu7\nbob\n");
  try {
    readIdList(file, index_);
    FAIL() << "no error for an unknown id";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), file);
    EXPECT_EQ(e.line(), 3);
    EXPECT_NE(std::string(e.what()).find("unknown user id 'bob'"), std::string::npos) << e.what();
  }
}

TEST_F(IdIndexTest, RefusesAFileWithoutIdsAndAMissingFile) {
  EXPECT_THROW(readIdList(write("empty.txt", "# nothing\n\n"), index_), InputError);
  EXPECT_THROW(readIdList(path("missing.txt"), index_), InputError);
}

}  // namespace
}  // namespace kgrec
