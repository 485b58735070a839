#pragma once
// `kgrec similar CKPT --items FILE -k 10 [-o FILE]`: each given item's nearest items by the
// cosine of their final vectors, cold items included, the item itself left out.

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace kgrec {

struct SimilarArgs {
  std::string checkpoint;
  std::string items_file;
  std::int64_t k = 10;
  std::string output;  // empty: standard output
};

CLI::App* addSimilarCommand(CLI::App& app, SimilarArgs& args);
void runSimilar(const SimilarArgs& args);

}  // namespace kgrec
