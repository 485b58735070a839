#pragma once
// Progress lines for long work (imports, epochs, evaluation): at most one line every
// `interval` seconds on the kgrec logger, with percentage and rate, so a user sees it move.

#include <chrono>
#include <cstdint>
#include <string>

namespace kgrec {

class Progress {
 public:
  Progress(std::string what, std::uint64_t total, double interval_seconds = 2.0);
  // Reports `done` units out of `total`; prints when the interval has passed.
  void update(std::uint64_t done);
  // Prints the final line (with elapsed seconds) once.
  void finish();
  double elapsedSeconds() const;

 private:
  std::string what_;
  std::uint64_t total_;
  double interval_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  bool finished_ = false;
};

}  // namespace kgrec
