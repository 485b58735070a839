#include "engine/common/atomic_folder.h"

#include <unistd.h>

#include "engine/common/atomic_output.h"
#include "engine/common/error.h"

namespace kgrec {
namespace fs = std::filesystem;

AtomicFolder::AtomicFolder(const std::string& dir, bool force, const std::string& marker,
                           const std::string& kind) {
  if (dir.empty()) throw ConfigError("the output folder (-o) must not be empty");
  path_ = fs::path(dir).lexically_normal();
  if (path_.filename().empty() && path_.has_parent_path()) path_ = path_.parent_path();
  const fs::path parent = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  if (!fs::is_directory(parent)) {
    throw ConfigError(fmt::format("cannot write {}: folder {} does not exist", path_.string(), parent.string()));
  }
  if (fs::exists(path_)) {
    if (!force) throw ConfigError(fmt::format("{} already exists; remove it or pass --force", path_.string()));
    if (!fs::is_directory(path_)) {
      throw ConfigError(fmt::format("{} exists and is not a folder; refusing to replace it", path_.string()));
    }
    if (!fs::is_empty(path_) && !fs::exists(path_ / marker)) {
      throw ConfigError(fmt::format(
          "{} is not a {} (no {}); refusing to replace it even with --force", path_.string(),
          kind, marker));
    }
  }
  temp_ = path_;
  temp_ += fmt::format(".tmp.{}", ::getpid());
  fs::remove_all(temp_);
  fs::create_directory(temp_);
}

AtomicFolder::~AtomicFolder() {
  std::error_code ignored;
  if (!committed_) fs::remove_all(temp_, ignored);
}

std::string AtomicFolder::file(const std::string& name) const { return (temp_ / name).string(); }

void AtomicFolder::commit() {
  fsyncDirectory(temp_.string());
  fs::path old;
  if (fs::exists(path_)) {
    old = path_;
    old += fmt::format(".old.{}", ::getpid());
    fs::remove_all(old);
    fs::rename(path_, old);
  }
  fs::rename(temp_, path_);
  committed_ = true;
  if (!old.empty()) fs::remove_all(old);
  fsyncDirectory(path_.has_parent_path() ? path_.parent_path().string() : std::string("."));
}

}  // namespace kgrec
