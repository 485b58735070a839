#include "launcher/stop_signals.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace kgrec {
namespace {

std::atomic<int> g_stop_signal{0};
std::atomic<bool> g_stop_agreed{false};
extern "C" void onStopSignal(int signal) { g_stop_signal.store(signal); }

}  // namespace

StopSignals::StopSignals(int rank) : rank_(rank) {
  std::signal(SIGTERM, onStopSignal);
  std::signal(SIGUSR1, onStopSignal);
  watchdog_ = std::thread([this] { watch(); });
}

StopSignals::~StopSignals() {
  done_ = true;
  watchdog_.join();
}

TrainHooks StopSignals::hooks() {
  TrainHooks h;
  h.stop_requested = [] { return g_stop_signal.load() != 0; };
  h.stop_agreed = [] { g_stop_agreed = true; };
  return h;
}

void StopSignals::watch() {
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> since;
  while (!done_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (g_stop_signal.load() == 0 || g_stop_agreed.load()) continue;
    if (!since) since = Clock::now();
    if (std::chrono::duration<double>(Clock::now() - *since).count() > kGraceSeconds) {
      std::fprintf(stderr, "rank %d: signal %d received but the ranks did not agree to stop "
                   "within %.0f s (a rank has probably died); exiting without a checkpoint\n",
                   rank_, g_stop_signal.load(), kGraceSeconds);
      std::fflush(stderr);
      std::_Exit(143);
    }
  }
}

}  // namespace kgrec
