// The .npy writer, read back by an independent header parser (tests/store/npy_reading.h) and
// compared with the same matrix written to and read from HDF5.

#include <gtest/gtest.h>

#include <random>

#include "engine/common/error.h"
#include "engine/store/hdf5_file.h"
#include "engine/store/npy_writer.h"
#include "tests/store/npy_reading.h"
#include "tests/store/temp_dir.h"

namespace kgrec {
namespace {

class NpyWriterTest : public TempDirTest {};

TEST_F(NpyWriterTest, ReadsBackTheValuesOfTheHdf5Copy) {
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes = {{37, 64}, {1, 3}, {0, 8}, {1000, 1}};
  for (const auto& [rows, cols] : shapes) {
    std::mt19937 rng(static_cast<unsigned>(rows * 131 + cols));
    std::normal_distribution<float> normal;
    std::vector<float> values(static_cast<std::size_t>(rows * cols));
    for (float& v : values) v = normal(rng);
    const std::string npy = path("m.npy"), h5 = path("m.h5");
    writeNpy(npy, values.data(), rows, cols);
    Hdf5File file = Hdf5File::create(h5);
    file.writeMatrix("/m", values.data(), rows, cols);
    file.close();

    const NpyArray read = readNpyFloatMatrix(npy);
    EXPECT_EQ(read.rows, rows);
    EXPECT_EQ(read.cols, cols);
    EXPECT_EQ(read.data_offset % 64, 0u) << "numpy aligns the data to 64 bytes";
    const FloatMatrix expected = Hdf5File::openRead(h5).readMatrix("/m");
    EXPECT_EQ(read.data, expected.data) << rows << " x " << cols;
  }
}

TEST_F(NpyWriterTest, HeaderIsTheDocumentedDictionary) {
  const std::string header = npyHeader(2, 3);
  EXPECT_EQ(header.size() % 64, 0u);
  EXPECT_EQ(header.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(static_cast<std::size_t>(static_cast<unsigned char>(header[8]) |
                                     (static_cast<unsigned char>(header[9]) << 8)),
            header.size() - 10);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_EQ(header.substr(10, dict.size()), dict);
  // Then spaces only, up to the final newline.
  EXPECT_EQ(header.find_first_not_of(' ', 10 + dict.size()), header.size() - 1);
  EXPECT_EQ(header.back(), '\n');
}

TEST_F(NpyWriterTest, LeavesNothingWhenTheFolderIsMissing) {
  const float value = 1.0f;
  EXPECT_THROW(writeNpy(path("missing/m.npy"), &value, 1, 1), Error);
  EXPECT_TRUE(files().empty());
}

}  // namespace
}  // namespace kgrec
