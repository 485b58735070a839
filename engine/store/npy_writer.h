#pragma once
// NumPy's .npy format (version 1.0) for float32 matrices, so that exported vectors load with
// numpy.load() without HDF5. The format (numpy.lib.format): the magic "\x93NUMPY", the
// version bytes 1 0, a little-endian uint16 header length, then an ASCII Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (rows, cols), } padded with spaces and
// ended by '\n' so that the data starts at a multiple of 64 bytes, then the rows in C order.

#include <cstdint>
#include <string>

namespace kgrec {

// The header (magic to '\n') of a C-order little-endian float32 [rows, cols] array.
std::string npyHeader(std::int64_t rows, std::int64_t cols);

// Writes `data` (rows x cols floats, row-major) to `path` atomically
// (engine/common/atomic_output.h).
void writeNpy(const std::string& path, const float* data, std::int64_t rows, std::int64_t cols);

}  // namespace kgrec
