#pragma once
// Helpers for the importer tests: fixture files in a fresh temporary folder, exception checks
// and the shared real datasets.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/common/error.h"
#include "engine/prepare/importers.h"

namespace kgrec {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = std::filesystem::temp_directory_path() /
            ("kgrec_prepare_" + std::to_string(now) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path(const std::string& name) const { return (path_ / name).string(); }
  std::string dir() const { return path_.string(); }
  // Writes `contents` byte for byte and returns the file's path.
  std::string write(const std::string& name, const std::string& contents) const {
    std::ofstream out(path(name), std::ios::binary);
    out << contents;
    return path(name);
  }

 private:
  std::filesystem::path path_;
};

// Runs fn and returns the message of the exception E it must throw.
template <typename E, typename Fn>
std::string thrownMessage(Fn&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw another exception type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "threw nothing";
  return "";
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Imports, expecting an InputError whose message names `file` at `line` and says `fragment`.
inline void expectInputError(const ImportOptions& o, const std::string& file, int line,
                      const std::string& fragment) {
  const std::string message = thrownMessage<InputError>([&] { importDataset(o); });
  EXPECT_TRUE(contains(message, file + ":" + std::to_string(line) + ": ")) << message;
  EXPECT_TRUE(contains(message, fragment)) << message;
}

// Whether the dataset has the KG triple head -relation-> tail (local indices).
inline bool hasTriple(const Dataset& d, NodeType head_type, std::int64_t head,
                      const std::string& relation, NodeType tail_type, std::int64_t tail) {
  const auto h = static_cast<std::int32_t>(d.nodes.globalId(head_type, head));
  const auto t = static_cast<std::int32_t>(d.nodes.globalId(tail_type, tail));
  for (const Triple& x : d.triples) {
    if (x.head == h && x.tail == t && d.relation_names[2 + 2 * x.relation] == relation) return true;
  }
  return false;
}

// Path of a dataset folder under the shared datasets, or "" when it is absent.
inline std::string sharedDataset(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(KGREC_SHARED_DIR) / "datasets" / name;
  return std::filesystem::is_directory(dir) ? dir.string() : std::string();
}

}  // namespace kgrec
