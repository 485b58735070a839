#pragma once
// Helpers for the importer tests: fixture files in a fresh temporary folder, exception checks
// and the shared real datasets.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

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

// Path of a dataset folder under the shared datasets, or "" when it is absent.
inline std::string sharedDataset(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(KGREC_SHARED_DIR) / "datasets" / name;
  return std::filesystem::is_directory(dir) ? dir.string() : std::string();
}

}  // namespace kgrec
