#include "engine/store/hdf5_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "engine/common/error.h"
#include "tests/store/temp_dir.h"

namespace kgrec {
namespace {

using Hdf5FileTest = TempDirTest;

// Runs `f`, expecting a FormatError whose message contains every one of `parts`.
template <class F>
void expectFormatError(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no FormatError";
  } catch (const FormatError& e) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST_F(Hdf5FileTest, VectorsRoundTrip) {
  const std::vector<std::int32_t> i32 = {-3, 0, 7, INT32_MAX};
  const std::vector<std::int64_t> i64 = {INT64_MIN, 1, 1LL << 40};
  const std::vector<float> f32 = {0.5f, -1.25f, 3e30f};
  const std::vector<std::uint8_t> u8 = {0, 255, 17};
  std::vector<std::int32_t> large(1 << 20);
  for (std::size_t k = 0; k < large.size(); ++k) large[k] = static_cast<std::int32_t>(k * 7);
  {
    Hdf5File f = Hdf5File::create(path("v.h5"));
    f.writeVector("/a/i32", i32);
    f.writeVector("/a/b/i64", i64);
    f.writeVector("/f32", f32);
    f.writeVector("/u8", u8);
    f.writeVector("/empty", std::vector<std::int32_t>{});
    f.writeVector("/large", large, 4);
    f.close();
  }
  const Hdf5File f = Hdf5File::openRead(path("v.h5"));
  EXPECT_EQ(f.readVector<std::int32_t>("/a/i32"), i32);
  EXPECT_EQ(f.readVector<std::int64_t>("/a/b/i64"), i64);
  EXPECT_EQ(f.readVector<float>("/f32"), f32);
  EXPECT_EQ(f.readVector<std::uint8_t>("/u8"), u8);
  EXPECT_TRUE(f.readVector<std::int32_t>("/empty").empty());
  EXPECT_EQ(f.readVector<std::int32_t>("/large"), large);
  EXPECT_EQ(f.readVector<std::int64_t>("/a/i32"),
            std::vector<std::int64_t>(i32.begin(), i32.end()));
  EXPECT_EQ(f.shape("/large"), std::vector<std::int64_t>{1 << 20});
}

TEST_F(Hdf5FileTest, MatrixRoundTripAndRowRanges) {
  const std::int64_t rows = 1000, cols = 3;
  std::vector<float> data(rows * cols);
  for (std::size_t k = 0; k < data.size(); ++k) data[k] = static_cast<float>(k) * 0.5f;
  {
    Hdf5File f = Hdf5File::create(path("m.h5"));
    f.writeMatrix("/features/lm", data.data(), rows, cols, 1);
    f.writeMatrix("/features/none", nullptr, 0, 8);
    f.close();
  }
  const Hdf5File f = Hdf5File::openRead(path("m.h5"));
  const FloatMatrix all = f.readMatrix("/features/lm");
  EXPECT_EQ(all.rows, rows);
  EXPECT_EQ(all.cols, cols);
  EXPECT_EQ(all.data, data);
  const FloatMatrix part = f.readMatrixRows("/features/lm", 10, 2);
  EXPECT_EQ(part.data, std::vector<float>(data.begin() + 30, data.begin() + 36));
  const FloatMatrix none = f.readMatrix("/features/none");
  EXPECT_EQ(none.rows, 0);
  EXPECT_EQ(none.cols, 8);
  expectFormatError([&] { f.readMatrixRows("/features/lm", 999, 2); },
                    {"m.h5", "/features/lm", "rows"});
  expectFormatError([&] { f.readMatrix("/features"); }, {"m.h5", "/features"});
}

TEST_F(Hdf5FileTest, StringsAndAttributes) {
  const std::vector<std::string> strings = {"plain", "", "ünïcødé ✓", std::string(5000, 'x')};
  {
    Hdf5File f = Hdf5File::create(path("s.h5"));
    f.writeStrings("/text/items", strings);
    f.writeStrings("/text/none", {});
    f.setAttribute("/", "magic", "kgrec-test");
    f.setAttribute("/", "version", std::int64_t{3});
    f.setAttribute("/", "version", std::int64_t{4});  // replaces
    f.setAttribute("/meta/deep", "b", "2");
    f.setAttribute("/meta/deep", "a", "1");
    f.createGroup("/meta/deep");  // exists: no-op
    f.close();
  }
  const Hdf5File f = Hdf5File::openRead(path("s.h5"));
  EXPECT_EQ(f.readStrings("/text/items"), strings);
  EXPECT_TRUE(f.readStrings("/text/none").empty());
  EXPECT_EQ(f.readStringAttribute("/", "magic"), "kgrec-test");
  EXPECT_EQ(f.readIntAttribute("/", "version"), 4);
  EXPECT_EQ(f.attributeNames("/meta/deep"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(f.hasAttribute("/", "magic"));
  EXPECT_FALSE(f.hasAttribute("/", "missing"));
  EXPECT_FALSE(f.hasAttribute("/nowhere", "magic"));
  EXPECT_TRUE(f.has("/meta/deep"));
  EXPECT_TRUE(f.has("/text/items"));
  EXPECT_FALSE(f.has("/text/other"));
  EXPECT_FALSE(f.has("/no/such/path"));
  expectFormatError([&] { f.readIntAttribute("/", "magic"); }, {"s.h5", "magic", "integer"});
  expectFormatError([&] { f.readStringAttribute("/", "missing"); }, {"s.h5", "missing"});
}

TEST_F(Hdf5FileTest, ErrorsNameFileAndObject) {
  {
    Hdf5File f = Hdf5File::create(path("e.h5"));
    f.writeVector("/floats", std::vector<float>{1.0f});
    f.writeVector("/wide", std::vector<std::int64_t>{1});
    f.close();
  }
  const Hdf5File f = Hdf5File::openRead(path("e.h5"));
  expectFormatError([&] { f.readVector<std::int32_t>("/missing/data"); },
                    {"e.h5", "/missing/data"});
  expectFormatError([&] { f.readVector<std::int32_t>("/floats"); }, {"e.h5", "/floats", "floats"});
  expectFormatError([&] { f.readVector<std::int32_t>("/wide"); }, {"e.h5", "/wide"});
  expectFormatError([&] { f.readStrings("/floats"); }, {"e.h5", "/floats", "strings"});
  expectFormatError([&] { Hdf5File::openRead(path("absent.h5")); }, {"absent.h5", "no such file"});
  {
    std::ofstream junk(path("junk.h5"));
    junk << "this is not an HDF5 file";
  }
  expectFormatError([&] { Hdf5File::openRead(path("junk.h5")); }, {"junk.h5", "not an HDF5 file"});
  expectFormatError([&] { Hdf5File::create(path("no/such/dir/x.h5")); }, {"x.h5"});
}

TEST_F(Hdf5FileTest, WritingAnExistingDatasetFails) {
  Hdf5File f = Hdf5File::create(path("d.h5"));
  f.writeVector("/x", std::vector<std::int32_t>{1});
  expectFormatError([&] { f.writeVector("/x", std::vector<std::int32_t>{2}); }, {"d.h5", "/x"});
}

}  // namespace
}  // namespace kgrec
