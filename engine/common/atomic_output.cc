#include "engine/common/atomic_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/common/error.h"

namespace kgrec {
namespace {

void fsyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) throw Error(fmt::format("cannot open {} to sync it: {}", path, std::strerror(errno)));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) throw Error(fmt::format("fsync of {} failed: {}", path, std::strerror(err)));
}

}  // namespace

AtomicOutput::AtomicOutput(std::string path, bool overwrite) : path_(std::move(path)) {
  namespace fs = std::filesystem;
  if (!overwrite && fs::exists(path_)) {
    throw ConfigError(fmt::format("{} already exists; remove it or pass --force", path_));
  }
  fs::path parent = fs::path(path_).parent_path();
  if (!parent.empty() && !fs::is_directory(parent)) {
    throw ConfigError(fmt::format("cannot write {}: directory {} does not exist", path_,
                                  parent.string()));
  }
  temp_path_ = fmt::format("{}.tmp.{}", path_, ::getpid());
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) std::remove(temp_path_.c_str());
}

void AtomicOutput::commit() {
  fsyncPath(temp_path_, false);
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    throw Error(fmt::format("cannot rename {} to {}: {}", temp_path_, path_, std::strerror(errno)));
  }
  committed_ = true;
  std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  fsyncPath(parent.empty() ? std::string(".") : parent.string(), true);
}

void writeFileAtomically(const std::string& path, const std::string& contents) {
  AtomicOutput out(path);
  {
    std::ofstream file(out.tempPath(), std::ios::binary | std::ios::trunc);
    file << contents;
    file.flush();
    if (!file) throw Error(fmt::format("cannot write {}: {}", out.tempPath(), std::strerror(errno)));
  }
  out.commit();
}

void fsyncDirectory(const std::string& dir) { fsyncPath(dir, true); }

}  // namespace kgrec
