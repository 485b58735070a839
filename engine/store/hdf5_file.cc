#include "engine/store/hdf5_file.h"

#include <H5Cpp.h>

#include <algorithm>
#include <filesystem>

#include "engine/common/error.h"

namespace kgrec {
namespace {

constexpr hsize_t kChunkBytes = hsize_t{1} << 20;  // HDF5's recommended order of magnitude

template <class T>
struct Hdf5Type;
template <>
struct Hdf5Type<std::int32_t> {
  static const H5::PredType& memory() { return H5::PredType::NATIVE_INT32; }
  static const H5::PredType& file() { return H5::PredType::STD_I32LE; }
  static constexpr H5T_class_t kClass = H5T_INTEGER;
};
template <>
struct Hdf5Type<std::int64_t> {
  static const H5::PredType& memory() { return H5::PredType::NATIVE_INT64; }
  static const H5::PredType& file() { return H5::PredType::STD_I64LE; }
  static constexpr H5T_class_t kClass = H5T_INTEGER;
};
template <>
struct Hdf5Type<float> {
  static const H5::PredType& memory() { return H5::PredType::NATIVE_FLOAT; }
  static const H5::PredType& file() { return H5::PredType::IEEE_F32LE; }
  static constexpr H5T_class_t kClass = H5T_FLOAT;
};
template <>
struct Hdf5Type<std::uint8_t> {
  static const H5::PredType& memory() { return H5::PredType::NATIVE_UINT8; }
  static const H5::PredType& file() { return H5::PredType::STD_U8LE; }
  static constexpr H5T_class_t kClass = H5T_INTEGER;
};

const char* className(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER:
      return "integers";
    case H5T_FLOAT:
      return "floats";
    case H5T_STRING:
      return "strings";
    default:
      return "another HDF5 type";
  }
}

H5::StrType utf8StringType() {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  return type;
}

// The innermost description on HDF5's error stack ("unable to open file", "object not
// found", ...), which says more than the C++ exception's "H5Dopen2 failed".
std::string innermostHdf5Error() {
  std::string message;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
        if (n == 0 && e->desc) *static_cast<std::string*>(out) = e->desc;
        return 0;
      },
      &message);
  return message;
}

// Runs an HDF5 operation on `object`, turning HDF5's exceptions into FormatError.
template <class F>
auto guarded(const std::string& file, const std::string& object, F&& operation)
    -> decltype(operation()) {
  try {
    return operation();
  } catch (const H5::Exception& e) {
    const std::string detail = innermostHdf5Error();
    throw FormatError(fmt::format("{}: {}: {}{}", file, object, e.getDetailMsg(),
                                  detail.empty() ? "" : " (" + detail + ")"));
  }
}

// Prefixes of an absolute path: "/a/b/c" -> "/a", "/a/b", "/a/b/c".
std::vector<std::string> pathPrefixes(const std::string& path) {
  std::vector<std::string> out;
  for (std::size_t at = path.find('/', 1);; at = path.find('/', at + 1)) {
    const std::string prefix = path.substr(0, at);
    if (!prefix.empty() && prefix != "/") out.push_back(prefix);
    if (at == std::string::npos) break;
  }
  return out;
}

std::string parentOf(const std::string& path) {
  const std::size_t at = path.rfind('/');
  return at == std::string::npos || at == 0 ? "/" : path.substr(0, at);
}

std::string attributeLabel(const std::string& group, const std::string& name) {
  return fmt::format("attribute '{}' of {}", name, group);
}

void quietHdf5() {
  static const bool quiet = [] {
    H5::Exception::dontPrint();
    return true;
  }();
  (void)quiet;
}

}  // namespace

struct Hdf5File::Handle {
  H5::H5File file;
};

Hdf5File::Hdf5File(std::string path, std::unique_ptr<Handle> handle)
    : path_(std::move(path)), handle_(std::move(handle)) {}
Hdf5File::Hdf5File(Hdf5File&&) noexcept = default;
Hdf5File& Hdf5File::operator=(Hdf5File&&) noexcept = default;
Hdf5File::~Hdf5File() = default;

Hdf5File Hdf5File::openExisting(const std::string& path, unsigned flags) {
  quietHdf5();
  if (!std::filesystem::exists(path)) throw FormatError(fmt::format("{}: no such file", path));
  return guarded(path, "/", [&] {
    if (H5::H5File::isHdf5(path) <= 0) {
      throw FormatError(fmt::format("{}: not an HDF5 file (or a damaged one)", path));
    }
    return Hdf5File(path, std::make_unique<Handle>(Handle{H5::H5File(path, flags)}));
  });
}

Hdf5File Hdf5File::openRead(const std::string& path) { return openExisting(path, H5F_ACC_RDONLY); }

Hdf5File Hdf5File::openWrite(const std::string& path) { return openExisting(path, H5F_ACC_RDWR); }

Hdf5File Hdf5File::create(const std::string& path) {
  quietHdf5();
  return guarded(path, "/", [&] {
    return Hdf5File(path, std::make_unique<Handle>(Handle{H5::H5File(path, H5F_ACC_TRUNC)}));
  });
}

void Hdf5File::close() {
  if (!handle_) return;
  guarded(path_, "/", [&] { handle_->file.close(); });
  handle_.reset();
}

bool Hdf5File::has(const std::string& object) const {
  KGREC_CHECK(handle_, "{} is closed", path_);
  return guarded(path_, object, [&] {
    for (const std::string& prefix : pathPrefixes(object)) {
      if (!handle_->file.nameExists(prefix)) return false;
    }
    return true;
  });
}

void Hdf5File::createGroup(const std::string& group) {
  KGREC_CHECK(handle_, "{} is closed", path_);
  guarded(path_, group, [&] {
    for (const std::string& prefix : pathPrefixes(group)) {
      if (!handle_->file.nameExists(prefix)) handle_->file.createGroup(prefix);
    }
  });
}

void Hdf5File::remove(const std::string& object) {
  if (!has(object)) return;
  guarded(path_, object, [&] { handle_->file.unlink(object); });
}

std::vector<std::int64_t> Hdf5File::shape(const std::string& dataset) const {
  KGREC_CHECK(handle_, "{} is closed", path_);
  return guarded(path_, dataset, [&] {
    const H5::DataSpace space = handle_->file.openDataSet(dataset).getSpace();
    std::vector<hsize_t> dims(space.getSimpleExtentNdims());
    space.getSimpleExtentDims(dims.data());
    return std::vector<std::int64_t>(dims.begin(), dims.end());
  });
}

template <class T>
void Hdf5File::writeVector(const std::string& dataset, const T* data, std::size_t size,
                           int deflate_level) {
  createGroup(parentOf(dataset));
  guarded(path_, dataset, [&] {
    const hsize_t dims[1] = {size};
    H5::DSetCreatPropList properties;
    if (deflate_level > 0 && size > 0) {
      const hsize_t chunk[1] = {std::min<hsize_t>(size, kChunkBytes / sizeof(T))};
      properties.setChunk(1, chunk);
      properties.setDeflate(deflate_level);
    }
    H5::DataSet ds = handle_->file.createDataSet(dataset, Hdf5Type<T>::file(),
                                                 H5::DataSpace(1, dims), properties);
    if (size > 0) ds.write(data, Hdf5Type<T>::memory());
  });
}

template <class T>
std::vector<T> Hdf5File::readVector(const std::string& dataset) const {
  KGREC_CHECK(handle_, "{} is closed", path_);
  return guarded(path_, dataset, [&] {
    const H5::DataSet ds = handle_->file.openDataSet(dataset);
    const H5::DataType stored = ds.getDataType();
    // Narrowing integers would silently clip ids, so only same-or-wider reads are allowed.
    if (stored.getClass() != Hdf5Type<T>::kClass ||
        (Hdf5Type<T>::kClass == H5T_INTEGER && stored.getSize() > sizeof(T))) {
      throw FormatError(fmt::format("{}: {}: holds {} of {} bytes, expected {} of at most {}",
                                    path_, dataset, className(stored.getClass()), stored.getSize(),
                                    className(Hdf5Type<T>::kClass), sizeof(T)));
    }
    const H5::DataSpace space = ds.getSpace();
    if (space.getSimpleExtentNdims() != 1) {
      throw FormatError(fmt::format("{}: {}: has {} dimensions, expected 1", path_, dataset,
                                    space.getSimpleExtentNdims()));
    }
    hsize_t size = 0;
    space.getSimpleExtentDims(&size);
    std::vector<T> out(size);
    if (size > 0) ds.read(out.data(), Hdf5Type<T>::memory());
    return out;
  });
}

template void Hdf5File::writeVector(const std::string&, const std::int32_t*, std::size_t, int);
template void Hdf5File::writeVector(const std::string&, const std::int64_t*, std::size_t, int);
template void Hdf5File::writeVector(const std::string&, const float*, std::size_t, int);
template void Hdf5File::writeVector(const std::string&, const std::uint8_t*, std::size_t, int);
template std::vector<std::int32_t> Hdf5File::readVector(const std::string&) const;
template std::vector<std::int64_t> Hdf5File::readVector(const std::string&) const;
template std::vector<float> Hdf5File::readVector(const std::string&) const;
template std::vector<std::uint8_t> Hdf5File::readVector(const std::string&) const;

void Hdf5File::writeMatrix(const std::string& dataset, const float* data, std::int64_t rows,
                           std::int64_t cols, int deflate_level) {
  KGREC_CHECK(rows >= 0 && cols >= 0, "matrix {} has shape {} x {}", dataset, rows, cols);
  createGroup(parentOf(dataset));
  guarded(path_, dataset, [&] {
    const hsize_t dims[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(cols)};
    H5::DSetCreatPropList properties;
    if (rows > 0 && cols > 0) {
      const hsize_t row_bytes = static_cast<hsize_t>(cols) * sizeof(float);
      const hsize_t chunk[2] = {std::clamp<hsize_t>(kChunkBytes / row_bytes, 1, dims[0]), dims[1]};
      properties.setChunk(2, chunk);
      if (deflate_level > 0) properties.setDeflate(deflate_level);
    }
    H5::DataSet ds = handle_->file.createDataSet(dataset, Hdf5Type<float>::file(),
                                                 H5::DataSpace(2, dims), properties);
    if (rows > 0 && cols > 0) ds.write(data, Hdf5Type<float>::memory());
  });
}

FloatMatrix Hdf5File::readMatrix(const std::string& dataset) const {
  const std::vector<std::int64_t> dims = shape(dataset);
  if (dims.size() != 2) {
    throw FormatError(
        fmt::format("{}: {}: has {} dimensions, expected 2", path_, dataset, dims.size()));
  }
  return readMatrixRows(dataset, 0, dims[0]);
}

FloatMatrix Hdf5File::readMatrixRows(const std::string& dataset, std::int64_t row_begin,
                                     std::int64_t row_count) const {
  KGREC_CHECK(handle_, "{} is closed", path_);
  return guarded(path_, dataset, [&] {
    const H5::DataSet ds = handle_->file.openDataSet(dataset);
    if (ds.getTypeClass() != H5T_FLOAT) {
      throw FormatError(fmt::format("{}: {}: holds {}, expected floats", path_, dataset,
                                    className(ds.getTypeClass())));
    }
    H5::DataSpace space = ds.getSpace();
    hsize_t dims[2] = {0, 0};
    if (space.getSimpleExtentNdims() != 2) {
      throw FormatError(fmt::format("{}: {}: has {} dimensions, expected 2", path_, dataset,
                                    space.getSimpleExtentNdims()));
    }
    space.getSimpleExtentDims(dims);
    if (row_begin < 0 || row_count < 0 || static_cast<hsize_t>(row_begin + row_count) > dims[0]) {
      throw FormatError(fmt::format("{}: {}: rows [{}, {}) requested, the matrix has {}", path_,
                                    dataset, row_begin, row_begin + row_count, dims[0]));
    }
    FloatMatrix m;
    m.rows = row_count;
    m.cols = static_cast<std::int64_t>(dims[1]);
    m.data.resize(static_cast<std::size_t>(m.rows * m.cols));
    if (m.data.empty()) return m;
    const hsize_t offset[2] = {static_cast<hsize_t>(row_begin), 0};
    const hsize_t count[2] = {static_cast<hsize_t>(row_count), dims[1]};
    space.selectHyperslab(H5S_SELECT_SET, count, offset);
    ds.read(m.data.data(), Hdf5Type<float>::memory(), H5::DataSpace(2, count), space);
    return m;
  });
}

void Hdf5File::writeStrings(const std::string& dataset, const std::vector<std::string>& values) {
  createGroup(parentOf(dataset));
  guarded(path_, dataset, [&] {
    std::vector<const char*> pointers(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) pointers[i] = values[i].c_str();
    const hsize_t dims[1] = {values.size()};
    const H5::StrType type = utf8StringType();
    H5::DataSet ds = handle_->file.createDataSet(dataset, type, H5::DataSpace(1, dims));
    if (!values.empty()) ds.write(pointers.data(), type);
  });
}

std::vector<std::string> Hdf5File::readStrings(const std::string& dataset) const {
  KGREC_CHECK(handle_, "{} is closed", path_);
  return guarded(path_, dataset, [&] {
    const H5::DataSet ds = handle_->file.openDataSet(dataset);
    if (ds.getTypeClass() != H5T_STRING || !ds.getStrType().isVariableStr()) {
      throw FormatError(fmt::format("{}: {}: holds {}, expected variable-length strings", path_,
                                    dataset, className(ds.getTypeClass())));
    }
    const H5::DataSpace space = ds.getSpace();
    if (space.getSimpleExtentNdims() != 1) {
      throw FormatError(fmt::format("{}: {}: has {} dimensions, expected 1", path_, dataset,
                                    space.getSimpleExtentNdims()));
    }
    hsize_t size = 0;
    space.getSimpleExtentDims(&size);
    std::vector<std::string> out(size);
    if (size == 0) return out;
    const H5::StrType type = utf8StringType();
    std::vector<char*> buffer(size, nullptr);
    ds.read(buffer.data(), type);
    for (hsize_t i = 0; i < size; ++i) {
      if (buffer[i]) out[i] = buffer[i];
    }
    H5::DataSet::vlenReclaim(buffer.data(), type, space);
    return out;
  });
}

void Hdf5File::setAttribute(const std::string& group, const std::string& name, std::int64_t value) {
  createGroup(group);
  guarded(path_, attributeLabel(group, name), [&] {
    H5::Group g = handle_->file.openGroup(group);
    if (g.attrExists(name)) g.removeAttr(name);
    g.createAttribute(name, Hdf5Type<std::int64_t>::file(), H5::DataSpace(H5S_SCALAR))
        .write(Hdf5Type<std::int64_t>::memory(), &value);
  });
}

void Hdf5File::setAttribute(const std::string& group, const std::string& name,
                            const std::string& value) {
  createGroup(group);
  guarded(path_, attributeLabel(group, name), [&] {
    H5::Group g = handle_->file.openGroup(group);
    if (g.attrExists(name)) g.removeAttr(name);
    const H5::StrType type = utf8StringType();
    g.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, value);
  });
}

bool Hdf5File::hasAttribute(const std::string& group, const std::string& name) const {
  return has(group) && guarded(path_, attributeLabel(group, name),
                               [&] { return handle_->file.openGroup(group).attrExists(name); });
}

std::int64_t Hdf5File::readIntAttribute(const std::string& group, const std::string& name) const {
  KGREC_CHECK(handle_, "{} is closed", path_);
  return guarded(path_, attributeLabel(group, name), [&] {
    const H5::Attribute a = handle_->file.openGroup(group).openAttribute(name);
    if (a.getTypeClass() != H5T_INTEGER) {
      throw FormatError(fmt::format("{}: {}: holds {}, expected an integer", path_,
                                    attributeLabel(group, name), className(a.getTypeClass())));
    }
    std::int64_t value = 0;
    a.read(Hdf5Type<std::int64_t>::memory(), &value);
    return value;
  });
}

std::string Hdf5File::readStringAttribute(const std::string& group, const std::string& name) const {
  KGREC_CHECK(handle_, "{} is closed", path_);
  return guarded(path_, attributeLabel(group, name), [&] {
    const H5::Attribute a = handle_->file.openGroup(group).openAttribute(name);
    if (a.getTypeClass() != H5T_STRING) {
      throw FormatError(fmt::format("{}: {}: holds {}, expected a string", path_,
                                    attributeLabel(group, name), className(a.getTypeClass())));
    }
    std::string value;
    a.read(a.getStrType(), value);
    return value;
  });
}

std::vector<std::string> Hdf5File::attributeNames(const std::string& group) const {
  KGREC_CHECK(handle_, "{} is closed", path_);
  return guarded(path_, group, [&] {
    std::vector<std::string> names;
    H5::Group g = handle_->file.openGroup(group);
    g.iterateAttrs([](H5::H5Object&, const H5std_string name,
                      void* out) { static_cast<std::vector<std::string>*>(out)->push_back(name); },
                   nullptr, &names);
    return names;
  });
}

}  // namespace kgrec
