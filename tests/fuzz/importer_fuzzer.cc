// libFuzzer target for one importer, the format named by KGREC_FUZZ_FORMAT (one executable per
// format, tests/fuzz/CMakeLists.txt). The input's first byte picks options; the rest is split at
// NUL bytes into the files that the format reads, in the order of kFiles below. Whatever the
// bytes, importDataset must either return a dataset that validateDataset accepts or throw
// InputError / ConfigError: any other exception, a crash, a leak or a hang is a bug.

#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "engine/common/error.h"
#include "engine/prepare/importers.h"

namespace {

namespace fs = std::filesystem;
using kgrec::ImportOptions;
using kgrec::InputFormat;

const InputFormat kFormat = kgrec::parseInputFormat(KGREC_FUZZ_FORMAT);

// The files of each format, in the order of the input's parts. MovieLens reads one of three
// layouts and RecBole one of two, chosen by the option byte.
std::vector<std::string> files(std::uint8_t flags) {
  switch (kFormat) {
    case InputFormat::kMovieLens:
      switch (flags & 3) {
        case 0: return {"u.genre", "u.item", "u.data"};
        case 1: return {"movies.dat", "ratings.dat"};
        default: return {"movies.csv", "ratings.csv", "tags.csv"};
      }
    case InputFormat::kRecBole:
      return flags & 1 ? std::vector<std::string>{"f.train.inter", "f.test.inter", "f.valid.inter", "f.item", "f.kg", "f.link"}
                       : std::vector<std::string>{"f.inter", "f.item", "f.kg", "f.link"};
    default:
      return {"train", "test", "kg", "text", "entity_text"};
  }
}

// A fresh folder per process, in memory where there is /dev/shm.
const fs::path& workDir() {
  static const fs::path dir = [] {
    const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    return base / ("kgrec-fuzz-" + std::to_string(getpid()));
  }();
  return dir;
}

void removeWorkDir() {
  std::error_code ec;
  fs::remove_all(workDir(), ec);
}

// Options from the flag bits: which optional files, the split, a rating filter.
ImportOptions options(std::uint8_t flags, const std::vector<std::string>& written) {
  auto path = [&](const std::string& name) {
    for (const std::string& w : written) {
      if (w == name) return (workDir() / name).string();
    }
    return std::string();
  };
  ImportOptions o;
  o.format = kFormat;
  o.name = "fuzz";
  const bool ratings = kFormat != InputFormat::kLightGcn && kFormat != InputFormat::kPairs;
  if (kFormat == InputFormat::kMovieLens) {
    o.movielens_dir = workDir().string();
    o.movielens_kg = (flags & 4) == 0;
  } else if (kFormat == InputFormat::kRecBole) {
    o.recbole_dir = workDir().string();
    o.recbole_name = "f";
    o.movielens_kg = (flags & 4) == 0;
  } else {
    o.train = path("train");
    o.test = path("test");
    o.kg = path("kg");
    o.text = path("text");
    o.entity_text = path("entity_text");
    if (!ratings && !o.kg.empty() && (flags & 4)) o.kg_items = flags >> 5;
  }
  if (kFormat == InputFormat::kCsv && (flags & 4)) o.columns = "user,item,,timestamp";
  if (ratings && (flags & 8)) o.min_rating = 3;
  if (ratings && o.test.empty() && !(kFormat == InputFormat::kRecBole && (flags & 1))) {
    o.split = static_cast<kgrec::SplitMethod>((flags >> 4) % 3);
    if (flags & 64) o.valid_fraction = 0.25;
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  std::atexit(removeWorkDir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  removeWorkDir();
  fs::create_directories(workDir());
  const std::vector<std::string> names = files(flags);
  std::vector<std::string> written;
  std::size_t start = 1;
  for (const std::string& name : names) {
    if (start > size) break;
    std::size_t end = start;
    while (end < size && data[end] != 0) ++end;
    std::ofstream(workDir() / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(data + start), static_cast<std::streamsize>(end - start));
    written.push_back(name);
    start = end + 1;
  }
  try {
    const kgrec::Dataset d = kgrec::importDataset(options(flags, written));
    kgrec::validateDataset(d);  // a FormatError here escapes: the importer built a bad dataset
  } catch (const kgrec::InputError&) {
  } catch (const kgrec::ConfigError&) {
  }
  return 0;
}
