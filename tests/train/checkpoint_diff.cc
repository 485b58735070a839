// checkpoint_diff A B TOLERANCE: compares two checkpoints written by `kgrec train PARTS/`
// tensor by tensor (the ID-embedding table and every module parameter) and prints the largest
// absolute difference. Exit 0 when it is at most TOLERANCE, 1 when larger or when the
// checkpoints do not have the same tensors, 2 on bad usage. Used by dist_train_test.sh.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>

#include <torch/serialize.h>
#include <torch/serialize/input-archive.h>

namespace {

// Every tensor of an archive, submodules' included, by dotted name.
void readTensors(torch::serialize::InputArchive& archive, const std::string& prefix,
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

std::map<std::string, torch::Tensor> tensorsOf(const std::string& dir) {
  std::map<std::string, torch::Tensor> out;
  torch::load(out["id_embedding"], dir + "/id_embedding.pt");
  torch::serialize::InputArchive archive;
  archive.load_from(dir + "/model.pt");
  readTensors(archive, "", &out);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: checkpoint_diff CHECKPOINT_A CHECKPOINT_B TOLERANCE\n");
    return 2;
  }
  try {
    const auto a = tensorsOf(argv[1]);
    const auto b = tensorsOf(argv[2]);
    const double tolerance = std::strtod(argv[3], nullptr);
    if (a.size() != b.size()) {
      std::printf("different tensors: %zu vs %zu\n", a.size(), b.size());
      return 1;
    }
    double worst = 0.0;
    for (const auto& [name, ta] : a) {
      const auto it = b.find(name);
      if (it == b.end() || !ta.sizes().equals(it->second.sizes())) {
        std::printf("%s: missing or of another shape in %s\n", name.c_str(), argv[2]);
        return 1;
      }
      const double diff = (ta - it->second).abs().max().item<double>();
      std::printf("%-20s %s max |a - b| = %.3g\n", name.c_str(), c10::str(ta.sizes()).c_str(), diff);
      worst = std::max(worst, diff);
    }
    std::printf("largest difference %.3g (tolerance %.3g)\n", worst, tolerance);
    return worst <= tolerance ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint_diff: %s\n", e.what());
    return 1;
  }
}
