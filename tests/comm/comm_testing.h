#pragma once
// Shared by the comm tests, which run as real ranks under mpirun (comm_test_main.cc).

#include <memory>
#include <string>

#include "comm/process_group.h"

namespace kgrec::testing {

// The MPI process group over MPI_COMM_WORLD, alive while the tests run.
std::shared_ptr<ProcessGroup> worldGroup();
// This rank's place among the ranks of its node (for binding GPUs).
int localRank();
int localSize();
// Collective: rank 0 makes a new folder under the temporary directory, named PREFIX-XXXXXX,
// and every rank returns its path.
std::string sharedTemporaryFolder(const std::string& prefix);

}  // namespace kgrec::testing
