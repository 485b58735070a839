#include "engine/common/progress.h"

#include <spdlog/spdlog.h>

namespace kgrec {

Progress::Progress(std::string what, std::uint64_t total, double interval_seconds)
    : what_(std::move(what)),
      total_(total),
      interval_(interval_seconds),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

double Progress::elapsedSeconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(std::uint64_t done) {
  auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_).count() < interval_) return;
  last_ = now;
  double pct = total_ ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 0.0;
  spdlog::info("{}: {:.1f}% ({}/{}) {:.1f}s", what_, pct, done, total_, elapsedSeconds());
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  spdlog::info("{}: done in {:.2f}s", what_, elapsedSeconds());
}

}  // namespace kgrec
