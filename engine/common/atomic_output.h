#pragma once
// Write-then-rename output: a file appears under its final name only once it is complete,
// so a crash or an error never leaves a half-written dataset, checkpoint or report behind.

#include <string>

namespace kgrec {

class AtomicOutput {
 public:
  // Refuses (ConfigError) when `path` exists and `overwrite` is false.
  explicit AtomicOutput(std::string path, bool overwrite = true);
  ~AtomicOutput();  // removes the temporary file unless commit() succeeded
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  // Where to write; a sibling of the final path so that rename() stays on one filesystem.
  const std::string& tempPath() const { return temp_path_; }
  const std::string& finalPath() const { return path_; }
  // fsyncs the temporary file, renames it onto the final path and fsyncs the directory.
  void commit();

 private:
  std::string path_;
  std::string temp_path_;
  bool committed_ = false;
};

// Writes `contents` to `path` atomically (temporary file, fsync, rename).
void writeFileAtomically(const std::string& path, const std::string& contents);

// fsyncs a folder, so that the renames into it survive a crash; Error when it cannot.
void fsyncDirectory(const std::string& dir);

}  // namespace kgrec
