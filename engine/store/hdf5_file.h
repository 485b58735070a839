#pragma once
// A small typed wrapper over HDF5 for kgrec's files (datasets, partition shards, features,
// checkpoints): whole 1-D arrays, 2-D float matrices, UTF-8 string lists and scalar
// attributes, addressed by slash paths ("/graph/indptr"). Every HDF5 failure becomes a
// FormatError naming the file and the object, so callers never see HDF5's own error stack.
// Not thread-safe (neither is the serial HDF5 library): use one thread per file at a time.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kgrec {

// Row-major rows x cols floats.
struct FloatMatrix {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<float> data;
};

class Hdf5File {
 public:
  // Opens an existing file read-only; FormatError when missing or not HDF5.
  static Hdf5File openRead(const std::string& path);
  // Opens an existing file to add to it (say, features to a dataset).
  static Hdf5File openWrite(const std::string& path);
  // Creates (truncates) a file for writing.
  static Hdf5File create(const std::string& path);

  Hdf5File(Hdf5File&&) noexcept;
  Hdf5File& operator=(Hdf5File&&) noexcept;
  ~Hdf5File();

  const std::string& path() const { return path_; }
  // Flushes and closes; later calls fail. Errors surface here rather than in the destructor.
  void close();

  // Whether a group or dataset exists at `object` ("/a/b"); false when a parent is missing.
  bool has(const std::string& object) const;
  // Creates the group and any missing parents (no-op when it exists).
  void createGroup(const std::string& group);
  // Unlinks a group or dataset (no-op when absent). HDF5 does not reclaim the space in the
  // file; h5repack does.
  void remove(const std::string& object);
  // Dimensions of a dataset.
  std::vector<std::int64_t> shape(const std::string& dataset) const;

  // 1-D arrays, written and read in one call each. T is one of std::int32_t, std::int64_t,
  // float, std::uint8_t. Parent groups are created as needed; deflate_level 1..9 compresses
  // (chunked), 0 stores contiguously. Reading checks rank 1 and the element kind (integer
  // or float); HDF5 converts between widths.
  template <class T>
  void writeVector(const std::string& dataset, const T* data, std::size_t size,
                   int deflate_level = 0);
  template <class T>
  void writeVector(const std::string& dataset, const std::vector<T>& values,
                   int deflate_level = 0) {
    writeVector(dataset, values.data(), values.size(), deflate_level);
  }
  template <class T>
  std::vector<T> readVector(const std::string& dataset) const;

  // 2-D float matrices, chunked by rows so that row ranges read cheaply.
  void writeMatrix(const std::string& dataset, const float* data, std::int64_t rows,
                   std::int64_t cols, int deflate_level = 0);
  FloatMatrix readMatrix(const std::string& dataset) const;
  // Rows [row_begin, row_begin + row_count) only.
  FloatMatrix readMatrixRows(const std::string& dataset, std::int64_t row_begin,
                             std::int64_t row_count) const;

  // Variable-length UTF-8 strings.
  void writeStrings(const std::string& dataset, const std::vector<std::string>& values);
  std::vector<std::string> readStrings(const std::string& dataset) const;

  // Scalar attributes on a group ("/" is the root); setting one creates the group if needed
  // and replaces an existing attribute of the same name.
  void setAttribute(const std::string& group, const std::string& name, std::int64_t value);
  void setAttribute(const std::string& group, const std::string& name, const std::string& value);
  // Plain string literals are strings, not booleans converted to integers.
  void setAttribute(const std::string& group, const std::string& name, const char* value) {
    setAttribute(group, name, std::string(value));
  }
  bool hasAttribute(const std::string& group, const std::string& name) const;
  std::int64_t readIntAttribute(const std::string& group, const std::string& name) const;
  std::string readStringAttribute(const std::string& group, const std::string& name) const;
  // Names of a group's attributes, in HDF5's name order.
  std::vector<std::string> attributeNames(const std::string& group) const;

 private:
  struct Handle;
  Hdf5File(std::string path, std::unique_ptr<Handle> handle);
  static Hdf5File openExisting(const std::string& path, unsigned flags);

  std::string path_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace kgrec
