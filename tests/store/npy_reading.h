#pragma once
// Test helper: reads a float32 .npy file back by parsing its header as numpy.lib.format
// describes it, independently of engine/store/npy_writer.cc. Failures are gtest-free
// std::runtime_errors so that command-line checkers can use it too.

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace kgrec {

struct NpyArray {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::size_t data_offset = 0;  // where the data starts in the file
  std::vector<float> data;
};

inline NpyArray readNpyFloatMatrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto fail = [&](const std::string& what) { throw std::runtime_error(path + ": " + what); };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) fail("no .npy magic");
  if (bytes[6] != 1 || bytes[7] != 0) fail("not format version 1.0");
  const std::size_t header_length = static_cast<unsigned char>(bytes[8]) |
                                    (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  if (bytes.size() < 10 + header_length) fail("truncated header");
  const std::string header = bytes.substr(10, header_length);
  if (header.back() != '\n') fail("header does not end with a newline");
  std::smatch m;
  static const std::regex dict(
      R"(^\{'descr': '<f4', 'fortran_order': False, 'shape': \((\d+), (\d+)\), \} *\n$)");
  if (!std::regex_match(header, m, dict)) fail("unexpected header: " + header);
  NpyArray out;
  out.rows = std::stoll(m[1]);
  out.cols = std::stoll(m[2]);
  out.data_offset = 10 + header_length;
  const std::size_t expected = out.data_offset + static_cast<std::size_t>(out.rows * out.cols) * 4;
  if (bytes.size() != expected) fail("size does not match the shape");
  out.data.resize(static_cast<std::size_t>(out.rows * out.cols));
  std::memcpy(out.data.data(), bytes.data() + out.data_offset, out.data.size() * sizeof(float));
  return out;
}

}  // namespace kgrec
