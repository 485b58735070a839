#pragma once
// KGREC_MPI_CHECK(call): every MPI call of kgrec goes through it. MPI only returns its codes
// when the communicator's error handler is MPI_ERRORS_RETURN (MpiRuntime sets it on
// MPI_COMM_WORLD; communicators duplicated from it inherit it).

#include <mpi.h>

#include "comm/comm_error.h"

namespace kgrec {

// This process's rank in MPI_COMM_WORLD, or -1 outside MPI_Init..MPI_Finalize.
int worldRank();
// Rank and size in `comm`; throw CommError when MPI fails.
int commRank(MPI_Comm comm);
int commSize(MPI_Comm comm);

namespace detail {
// Throws CommError: the operation is the MPI function's name; the detail has file:line, the
// call as written, the code and MPI's text for it.
[[noreturn]] void throwMpiError(const char* file, int line, const char* call, int code);
}  // namespace detail

}  // namespace kgrec

#define KGREC_MPI_CHECK(call)                                                   \
  do {                                                                          \
    const int kgrec_mpi_rc_ = (call);                                           \
    if (kgrec_mpi_rc_ != MPI_SUCCESS) {                                         \
      ::kgrec::detail::throwMpiError(__FILE__, __LINE__, #call, kgrec_mpi_rc_); \
    }                                                                           \
  } while (0)
