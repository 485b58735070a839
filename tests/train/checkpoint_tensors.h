#pragma once
// The tensors of a kgrec checkpoint (the ID-embedding table and every module parameter) and
// their largest difference between two checkpoints: for the same-trajectory checks.

#include <cmath>
#include <limits>
#include <map>
#include <string>

#include <torch/serialize.h>
#include <torch/serialize/input-archive.h>

namespace kgrec::testing {

// Every tensor of an archive, submodules' included, by dotted name.
inline void readTensors(torch::serialize::InputArchive& archive, const std::string& prefix,
                        std::map<std::string, torch::Tensor>* out) {
  for (const std::string& key : archive.keys()) {
    torch::Tensor t;
    torch::serialize::InputArchive sub;
    if (archive.try_read(key, t)) {
      (*out)[prefix + key] = t;
    } else if (archive.try_read(key, sub)) {
      readTensors(sub, prefix + key + ".", out);
    }
  }
}

inline std::map<std::string, torch::Tensor> checkpointTensors(const std::string& dir) {
  std::map<std::string, torch::Tensor> out;
  torch::load(out["id_embedding"], dir + "/id_embedding.pt");
  torch::serialize::InputArchive archive;
  archive.load_from(dir + "/model.pt");
  readTensors(archive, "", &out);
  return out;
}

// max |a - b| over every tensor of the two checkpoints, and the name of the tensor where it
// is (`where`); infinity (and `why`) when they do not hold the same tensors with the same shapes.
inline double largestDifference(const std::map<std::string, torch::Tensor>& a,
                                const std::map<std::string, torch::Tensor>& b,
                                std::string* why = nullptr, std::string* where = nullptr) {
  if (a.size() != b.size()) {
    if (why) *why = "different numbers of tensors";
    return std::numeric_limits<double>::infinity();
  }
  double worst = 0.0;
  for (const auto& [name, ta] : a) {
    const auto it = b.find(name);
    if (it == b.end() || !ta.sizes().equals(it->second.sizes())) {
      if (why) *why = name + ": missing or of another shape";
      return std::numeric_limits<double>::infinity();
    }
    const double difference = (ta - it->second).abs().max().item<double>();
    if (difference > worst || (where && where->empty())) {
      worst = std::max(worst, difference);
      if (where) *where = name;
    }
  }
  return worst;
}

}  // namespace kgrec::testing
