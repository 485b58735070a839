#include "models/encoder/safetensors_file.h"

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/common/error.h"

namespace kgrec {
namespace {

// A header larger than this is not a weights file (real ones are kilobytes).
constexpr std::uint64_t kMaxHeaderBytes = 100ULL << 20;

std::int64_t bytesPerElement(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "I32") return 4;
  if (dtype == "I16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") return 1;
  return 0;
}

}  // namespace

SafetensorsFile::SafetensorsFile(std::string path) : path_(std::move(path)) {
  std::ifstream in(path_, std::ios::binary | std::ios::ate);
  if (!in) throw InputError(path_, "cannot be read (expected a safetensors weights file)");
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  unsigned char size_bytes[8] = {};
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(size_bytes), 8)) {
    throw InputError(path_, "too short for a safetensors file (no 8-byte header length)");
  }
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | size_bytes[i];  // little-endian
  if (header_size > kMaxHeaderBytes || 8 + header_size > file_size) {
    throw InputError(path_, fmt::format("header length {} does not fit the file of {} bytes: "
                                        "not a safetensors file, or a truncated one",
                                        header_size, file_size));
  }
  std::string header(header_size, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_size));
  data_.resize(file_size - 8 - header_size);
  if (!in.read(data_.data(), static_cast<std::streamsize>(data_.size()))) {
    throw InputError(path_, "could not read the tensor data");
  }
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path_, fmt::format("header is not JSON: {}", e.what()));
  }
  if (!json.is_object()) throw InputError(path_, "header is not a JSON object");
  for (const auto& [name, value] : json.items()) {
    if (name == "__metadata__") continue;
    Entry e;
    try {
      e.dtype = value.at("dtype").get<std::string>();
      e.shape = value.at("shape").get<std::vector<std::int64_t>>();
      const auto offsets = value.at("data_offsets").get<std::vector<std::uint64_t>>();
      if (offsets.size() != 2) throw InputError(path_, "data_offsets must hold 2 numbers");
      e.begin = offsets[0];
      e.end = offsets[1];
    } catch (const nlohmann::json::exception& ex) {
      throw InputError(path_, fmt::format("header entry '{}' lacks dtype, shape or "
                                          "data_offsets: {}", name, ex.what()));
    }
    std::int64_t elements = 1;
    for (std::int64_t d : e.shape) {
      if (d < 0) throw InputError(path_, fmt::format("tensor '{}' has a negative dimension", name));
      elements *= d;
    }
    const std::int64_t width = bytesPerElement(e.dtype);
    if (width == 0) {
      throw InputError(path_, fmt::format("tensor '{}' has unknown dtype '{}'", name, e.dtype));
    }
    if (e.begin > e.end || e.end > data_.size() ||
        e.end - e.begin != static_cast<std::uint64_t>(elements * width)) {
      throw InputError(path_, fmt::format(
          "tensor '{}' ({} {}) has data_offsets [{}, {}] that do not match its size or lie "
          "outside the {} data bytes", name, e.dtype, c10::str(c10::IntArrayRef(e.shape)),
          e.begin, e.end, data_.size()));
    }
    entries_.emplace(name, std::move(e));
  }
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : entries_) out.push_back(name);
  return out;
}

const SafetensorsFile::Entry& SafetensorsFile::entry(const std::string& name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) throw InputError(path_, fmt::format("has no tensor '{}'", name));
  return it->second;
}

std::vector<std::int64_t> SafetensorsFile::shape(const std::string& name) const {
  return entry(name).shape;
}

torch::Tensor SafetensorsFile::float32(const std::string& name) const {
  const Entry& e = entry(name);
  torch::ScalarType type;
  if (e.dtype == "F32") {
    type = torch::kFloat32;
  } else if (e.dtype == "F16") {
    type = torch::kFloat16;
  } else if (e.dtype == "BF16") {
    type = torch::kBFloat16;
  } else {
    throw InputError(path_, fmt::format("tensor '{}' is {}; weights must be F32, F16 or BF16",
                                        name, e.dtype));
  }
  // from_blob does not own the bytes; the copy to float32 (clone for F32) does. Data offsets
  // need not be aligned, so the bytes are first copied into an aligned tensor.
  torch::Tensor raw = torch::empty(e.shape, type);
  std::memcpy(raw.data_ptr(), data_.data() + e.begin, e.end - e.begin);
  return raw.to(torch::kFloat32);
}

}  // namespace kgrec
