#pragma once
// `kgrec export CKPT -o DIR`: a checkpoint's final user, item and entity vectors with their
// original ids, as HDF5 and as NumPy .npy files (docs/format.md, "Exported vectors").

#include <string>

#include <CLI/CLI.hpp>

namespace kgrec {

struct ExportArgs {
  std::string checkpoint;
  std::string output;
  bool force = false;
};

CLI::App* addExportCommand(CLI::App& app, ExportArgs& args);
void runExport(const ExportArgs& args);

}  // namespace kgrec
