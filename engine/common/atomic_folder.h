#pragma once
// An output folder that appears complete or not at all: files go into a temporary sibling,
// which commit() renames onto the final path (the folder counterpart of AtomicOutput).
// Replacing (force) is allowed only for a folder that is empty or holds `marker`, the file
// every folder of its kind has (`kind` names that kind in messages, e.g. "kgrec partition
// folder"), so that a mistyped -o never deletes unrelated data.

#include <filesystem>
#include <string>

namespace kgrec {

class AtomicFolder {
 public:
  // ConfigError when `dir` exists and !force, or exists and is not empty and has no `marker`,
  // or when its parent folder does not exist.
  AtomicFolder(const std::string& dir, bool force, const std::string& marker,
               const std::string& kind);
  ~AtomicFolder();  // removes the temporary folder unless commit() succeeded
  AtomicFolder(const AtomicFolder&) = delete;
  AtomicFolder& operator=(const AtomicFolder&) = delete;

  // Path of `name` inside the temporary folder.
  std::string file(const std::string& name) const;
  // fsyncs the temporary folder, renames it onto the final path (moving an old folder aside
  // and removing it afterwards) and fsyncs the parent.
  void commit();

 private:
  std::filesystem::path path_, temp_;
  bool committed_ = false;
};

}  // namespace kgrec
