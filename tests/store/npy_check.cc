// npy_check FILE.npy FILE.h5 DATASET: exit 0 when the .npy file's float32 matrix (header
// parsed by tests/store/npy_reading.h) equals the HDF5 matrix DATASET exactly; for the
// command-line test of `kgrec export`.

#include <cstdio>
#include <exception>

#include "engine/store/hdf5_file.h"
#include "tests/store/npy_reading.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: npy_check FILE.npy FILE.h5 DATASET\n");
    return 2;
  }
  try {
    const kgrec::NpyArray npy = kgrec::readNpyFloatMatrix(argv[1]);
    const kgrec::FloatMatrix h5 = kgrec::Hdf5File::openRead(argv[2]).readMatrix(argv[3]);
    if (npy.rows != h5.rows || npy.cols != h5.cols || npy.data != h5.data) {
      std::fprintf(stderr, "%s (%lld x %lld) differs from %s:%s (%lld x %lld)\n", argv[1],
                   static_cast<long long>(npy.rows), static_cast<long long>(npy.cols), argv[2],
                   argv[3], static_cast<long long>(h5.rows), static_cast<long long>(h5.cols));
      return 1;
    }
    std::printf("%s equals %s:%s (%lld x %lld)\n", argv[1], argv[2], argv[3],
                static_cast<long long>(npy.rows), static_cast<long long>(npy.cols));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
