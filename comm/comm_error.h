#pragma once
// Errors of collective communication. A failed MPI, NCCL or CUDA call, or a collective whose
// ranks disagree (shapes, dtypes), throws CommError naming the rank and the operation; the
// launcher then aborts the whole job (abortJob in comm/mpi/mpi_runtime.h), since the other
// ranks would otherwise wait forever in their next collective.

#include <string>

#include "engine/common/error.h"

namespace kgrec {

class CommError : public Error {
 public:
  // The message reads "rank R: OPERATION: detail".
  CommError(int rank, std::string operation, const std::string& detail);
  int rank() const { return rank_; }
  const std::string& operation() const { return operation_; }

 private:
  int rank_;
  std::string operation_;
};

namespace detail {
// The function name of a call as written ("MPI_Bcast(buf, n, ...)" -> "MPI_Bcast"): the
// operation of a CommError thrown by the KGREC_*_CHECK macros.
std::string calledFunction(const char* call);
}  // namespace detail

}  // namespace kgrec
