#include "engine/store/npy_writer.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "engine/common/atomic_output.h"
#include "engine/common/error.h"

namespace kgrec {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "writeNpy writes the host's floats as '<f4' (little-endian)");

std::string npyHeader(std::int64_t rows, std::int64_t cols) {
  KGREC_CHECK(rows >= 0 && cols >= 0, "npy shape ({}, {}) must not be negative", rows, cols);
  constexpr std::size_t kPrefix = 10;  // magic (6), version (2), header length (2)
  constexpr std::size_t kAlignment = 64;
  std::string dict = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
                                 rows, cols);
  const std::size_t unpadded = kPrefix + dict.size() + 1;  // + the final '\n'
  dict.append((kAlignment - unpadded % kAlignment) % kAlignment, ' ');
  dict.push_back('\n');
  const std::size_t length = dict.size();
  KGREC_ASSERT(length <= 0xffff);
  std::string header("\x93NUMPY\x01\x00", 8);
  header.push_back(static_cast<char>(length & 0xff));
  header.push_back(static_cast<char>(length >> 8));
  return header + dict;
}

void writeNpy(const std::string& path, const float* data, std::int64_t rows, std::int64_t cols) {
  const std::string header = npyHeader(rows, cols);
  AtomicOutput out(path);
  {
    std::ofstream file(out.tempPath(), std::ios::binary | std::ios::trunc);
    file.write(header.data(), static_cast<std::streamsize>(header.size()));
    file.write(reinterpret_cast<const char*>(data),
               static_cast<std::streamsize>(rows * cols * sizeof(float)));
    file.flush();
    if (!file) throw Error(fmt::format("cannot write {}: {}", out.tempPath(), std::strerror(errno)));
  }
  out.commit();
}

}  // namespace kgrec
