#include "engine/train/checkpoint.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "engine/common/atomic_output.h"
#include "engine/common/error.h"

namespace kgrec {

std::string checkpointManifestPath(const std::string& dir) { return dir + "/checkpoint.json"; }

std::string rankStateFile(const std::string& dir, int rank) {
  return fmt::format("{}/rank-{}.pt", dir, rank);
}

CheckpointManifest readCheckpointManifest(const std::string& dir) {
  const std::string path = checkpointManifestPath(dir);
  std::ifstream in(path);
  if (!in) {
    throw FormatError(fmt::format("{}: no checkpoint.json; the checkpoint is incomplete (a run "
                                  "stopped while writing it) or this is not a kgrec checkpoint "
                                  "folder", dir));
  }
  try {
    nlohmann::json m;
    in >> m;
    const std::string kind = m.value("kind", std::string());
    const int version = m.value("version", 0);
    if (kind != kCheckpointKind || version != kCheckpointVersion) {
      throw FormatError(fmt::format(
          "{}: a checkpoint of format '{}' version {}, written by an earlier kgrec; this kgrec "
          "reads '{}' version {}. Train again with this kgrec (kgrec train ... --ckpt DIR), or "
          "evaluate it with the kgrec that wrote it",
          path, kind, version, kCheckpointKind, kCheckpointVersion));
    }
    CheckpointManifest c;
    c.epoch = m.at("epoch").get<std::int64_t>();
    c.next_step = m.at("next_step").get<std::int64_t>();
    c.finished = m.at("finished").get<bool>();
    c.ranks = m.at("ranks").get<int>();
    c.dataset = m.at("dataset").get<std::string>();
    c.feature_dim = m.at("feature_dim").get<std::int64_t>();
    c.num_relations = m.at("num_relations").get<std::int64_t>();
    c.options = m.at("options").get<TrainOptions>();
    c.metrics = m.at("metrics");
    // Added within the version: a checkpoint without them had no loss scaler.
    c.loss_scale = m.value("loss_scale", 1.0);
    c.loss_scale_finite_steps = m.value("loss_scale_finite_steps", std::int64_t{0});
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(fmt::format("{}: malformed checkpoint manifest: {}", path, e.what()));
  }
}

void writeCheckpointManifest(const std::string& dir, const CheckpointManifest& c) {
  const nlohmann::json m = {{"kind", kCheckpointKind},   {"version", kCheckpointVersion},
                            {"epoch", c.epoch},          {"next_step", c.next_step},
                            {"finished", c.finished},    {"ranks", c.ranks},
                            {"dataset", c.dataset},      {"feature_dim", c.feature_dim},
                            {"num_relations", c.num_relations}, {"options", c.options},
                            {"metrics", c.metrics},      {"loss_scale", c.loss_scale},
                            {"loss_scale_finite_steps", c.loss_scale_finite_steps}};
  writeFileAtomically(checkpointManifestPath(dir), m.dump(2) + "\n");
}

}  // namespace kgrec
