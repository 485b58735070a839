#include "launcher/export_command.h"

#include <spdlog/spdlog.h>

#include "comm/local_process_group.h"
#include "engine/common/atomic_folder.h"
#include "engine/common/atomic_output.h"
#include "engine/store/hdf5_file.h"
#include "engine/store/npy_writer.h"
#include "engine/train/checkpoint.h"
#include "launcher/checkpoint_vectors.h"

namespace kgrec {
namespace {

constexpr const char* kVectorsFile = "vectors.h5";
constexpr const char* kVectorsKind = "kgrec-vectors";
constexpr int kVectorsVersion = 1;

std::string joinLines(const std::vector<std::string>& ids) {
  std::string text;
  for (const std::string& id : ids) text += id + "\n";
  return text;
}

}  // namespace

CLI::App* addExportCommand(CLI::App& app, ExportArgs& a) {
  CLI::App* cmd = addCheckpointCommand(
      app, "export",
      "Write a checkpoint's final user, item and entity vectors with their original ids, as "
      "HDF5 and NumPy .npy (for a graph filter: its spectral factors, whose inner products "
      "approximate its scores)",
      a.checkpoint);
  cmd->footer(
      "Files: vectors.h5 (HDF5: /users, /items, /entities, each with vectors and ids), "
      "users.npy / items.npy / entities.npy (float32 [count, dim]) and users.txt / items.txt / "
      "entities.txt (the original id of each row, one a line). docs/format.md has the layout.");
  cmd->add_option("-o,--output", a.output, "Output folder (appears complete or not at all)")->required();
  cmd->add_flag("--force", a.force, "Replace an existing folder written by kgrec export");
  return cmd;
}

void runExport(const ExportArgs& a) {
  AtomicFolder out(a.output, a.force, kVectorsFile, "kgrec export folder");
  LocalProcessGroup self;
  const CheckpointVectors v = loadCheckpointVectors(a.checkpoint, self);
  const CheckpointManifest manifest = readCheckpointManifest(a.checkpoint);
  const Dataset& d = v.dataset;
  Hdf5File h5 = Hdf5File::create(out.file(kVectorsFile));
  h5.setAttribute("/", "kind", kVectorsKind);
  h5.setAttribute("/", "format_version", kVectorsVersion);
  h5.setAttribute("/", "model", manifest.options.model.name);
  h5.setAttribute("/", "dataset", manifest.dataset);
  h5.setAttribute("/", "epoch", manifest.epoch);
  h5.setAttribute("/", "dim", v.items.size(1));
  h5.setAttribute("/", "vectors", v.kind);
  for (const auto& [name, vectors, ids] :
       {std::tuple{"users", v.users, &d.user_ids}, std::tuple{"items", v.items, &d.item_ids},
        std::tuple{"entities", v.entities, &d.entity_ids}}) {
    const torch::Tensor rows = vectors.contiguous();
    const std::string group = fmt::format("/{}", name);
    // A type without vectors (a graph filter's entities) is written with 0 rows and no ids.
    const std::vector<std::string>& row_ids = rows.size(0) == 0 ? std::vector<std::string>{} : *ids;
    h5.writeMatrix(group + "/vectors", rows.data_ptr<float>(), rows.size(0), rows.size(1));
    h5.writeStrings(group + "/ids", row_ids);
    writeNpy(out.file(fmt::format("{}.npy", name)), rows.data_ptr<float>(), rows.size(0), rows.size(1));
    writeFileAtomically(out.file(fmt::format("{}.txt", name)), joinLines(row_ids));
  }
  h5.writeVector("/items/cold", d.cold_items);
  h5.close();
  out.commit();
  spdlog::info("export: {} users, {} items, {} entities, dim {} ({}) -> {}", v.users.size(0),
               v.items.size(0), v.entities.size(0), v.items.size(1), v.kind, a.output);
}

}  // namespace kgrec
