#pragma once
// Reader of the safetensors weight format (Hugging Face): an 8-byte little-endian header
// length, a JSON header mapping each tensor name to {dtype, shape, data_offsets} (offsets into
// the data block after the header), then the raw little-endian tensors. Lets kgrec load
// pretrained weights in C++ without Python or pickle.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

namespace kgrec {

class SafetensorsFile {
 public:
  // Reads the header and the data block. InputError naming the file for a missing or short
  // file, a header that is not JSON of the documented shape, or offsets outside the data.
  explicit SafetensorsFile(std::string path);

  bool has(const std::string& name) const { return entries_.count(name) > 0; }
  // Names of all tensors, sorted.
  std::vector<std::string> names() const;
  // The tensor as float32 (F32, F16 and BF16 are read; other dtypes are an InputError naming
  // the tensor). InputError when the file has no tensor of that name.
  torch::Tensor float32(const std::string& name) const;
  std::vector<std::int64_t> shape(const std::string& name) const;
  const std::string& path() const { return path_; }

 private:
  struct Entry {
    std::string dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0;  // byte offsets into data_
    std::uint64_t end = 0;
  };
  const Entry& entry(const std::string& name) const;

  std::string path_;
  std::map<std::string, Entry> entries_;
  std::vector<char> data_;
};

}  // namespace kgrec
