// main() of comm_test: every rank runs the same tests in the same order (their collectives must
// match). Rank 0 prints GoogleTest's usual output; the other ranks print only their failures,
// prefixed with their rank. Every rank exits non-zero if any rank failed.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <ATen/Parallel.h>

#include "comm/mpi/mpi_check.h"
#include "comm/mpi/mpi_process_group.h"
#include "comm/mpi/mpi_runtime.h"
#include "tests/comm/comm_testing.h"

namespace kgrec::testing {
namespace {

std::shared_ptr<ProcessGroup> g_world;
int g_local_rank = 0;
int g_local_size = 1;

class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "rank %d: %s:%d: failure\n%s\n", rank_,
                 result.file_name() ? result.file_name() : "?", result.line_number(),
                 result.message());
  }

 private:
  int rank_;
};

}  // namespace

std::shared_ptr<ProcessGroup> worldGroup() { return g_world; }
int localRank() { return g_local_rank; }
int localSize() { return g_local_size; }

std::string sharedTemporaryFolder(const std::string& prefix) {
  char path[4096] = {};
  if (g_world->rank() == 0) {
    const std::string pattern =
        (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    std::snprintf(path, sizeof path, "%s", pattern.c_str());
    if (::mkdtemp(path) == nullptr) std::abort();
  }
  MPI_Bcast(path, sizeof path, MPI_CHAR, 0, MPI_COMM_WORLD);
  return path;
}

}  // namespace kgrec::testing

int main(int argc, char** argv) {
  try {
    kgrec::MpiRuntime mpi(&argc, &argv);
    ::testing::InitGoogleTest(&argc, argv);
    // Several ranks share this machine's cores: one intra-op thread each.
    at::set_num_threads(1);
    if (mpi.rank() != 0) {
      ::testing::TestEventListeners& listeners = ::testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new kgrec::testing::RankFailurePrinter(mpi.rank()));
    }
    kgrec::testing::g_local_rank = mpi.localRank();
    kgrec::testing::g_local_size = mpi.localSize();
    kgrec::testing::g_world = std::make_shared<kgrec::MpiProcessGroup>();
    int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
    kgrec::testing::g_world.reset();
    KGREC_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
    if (failed && mpi.rank() == 0) std::fprintf(stderr, "comm_test: tests failed on some rank\n");
    return failed;
  } catch (const std::exception& e) {
    kgrec::abortJob(e.what());
  }
}
