#pragma once
// SIGTERM and SIGUSR1 (Slurm's pre-emption warnings; mpirun forwards SIGUSR1 to the ranks)
// ask a training run to write its checkpoint and stop at the next step. The trainer polls the
// request through TrainHooks; this is the process side: the handlers and a watchdog.

#include <atomic>
#include <thread>

#include "engine/train/trainer.h"

namespace kgrec {

// A run stopped this way has not finished and has not failed: EX_TEMPFAIL, so that a batch
// script can requeue it.
constexpr int kExitStoppedEarly = 75;

// A stop signal also arrives when a rank has died (srun --kill-on-bad-exit sends SIGTERM to
// the others); their agreement to stop then never completes, as the dead rank is part of it.
// So once a signal is in, the ranks get kGraceSeconds to agree, or the process exits (143,
// like an unhandled SIGTERM) instead of waiting for Slurm's SIGKILL.
class StopSignals {
 public:
  static constexpr double kGraceSeconds = 10.0;
  // Installs the handlers and starts the watchdog; one per process.
  explicit StopSignals(int rank);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  TrainHooks hooks();

 private:
  void watch();
  int rank_;
  std::atomic<bool> done_{false};
  std::thread watchdog_;
};

}  // namespace kgrec
