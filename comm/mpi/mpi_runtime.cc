#include "comm/mpi/mpi_runtime.h"

#include <cstdio>
#include <cstdlib>

#include "comm/mpi/mpi_check.h"

namespace kgrec {

namespace {
bool mpiActive() {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}
}  // namespace

int worldRank() {
  int rank = -1;
  if (mpiActive()) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int commRank(MPI_Comm comm) {
  int rank = 0;
  KGREC_MPI_CHECK(MPI_Comm_rank(comm, &rank));
  return rank;
}

int commSize(MPI_Comm comm) {
  int size = 0;
  KGREC_MPI_CHECK(MPI_Comm_size(comm, &size));
  return size;
}

namespace detail {
void throwMpiError(const char* file, int line, const char* call, int code) {
  std::string text = "no MPI error text (MPI not active)";
  if (mpiActive()) {
    char buffer[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, buffer, &length) == MPI_SUCCESS) text.assign(buffer, length);
  }
  throw CommError(worldRank(), calledFunction(call),
                  fmt::format("[{}:{}] {} returned {} ({})", file, line, call, code, text));
}
}  // namespace detail

MpiRuntime::MpiRuntime(int* argc, char*** argv) {
  int initialized = 0;
  KGREC_MPI_CHECK(MPI_Initialized(&initialized));
  int provided = MPI_THREAD_SINGLE;
  if (initialized) {
    KGREC_MPI_CHECK(MPI_Query_thread(&provided));
  } else {
    KGREC_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided));
    owns_mpi_ = true;
  }
  KGREC_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  KGREC_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  KGREC_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  if (provided < MPI_THREAD_MULTIPLE) {
    throw CommError(rank_, "MPI_Init_thread",
                    fmt::format("kgrec needs MPI_THREAD_MULTIPLE but this MPI provides level {}; "
                                "use an MPI built with thread support (Open MPI 4 is)",
                                provided));
  }
  MPI_Comm local = MPI_COMM_NULL;
  KGREC_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_,
                                      MPI_INFO_NULL, &local));
  KGREC_MPI_CHECK(MPI_Comm_rank(local, &local_rank_));
  KGREC_MPI_CHECK(MPI_Comm_size(local, &local_size_));
  KGREC_MPI_CHECK(MPI_Comm_free(&local));
}

MpiRuntime::~MpiRuntime() {
  // Errors cannot be reported from a destructor; MPI_Finalize's code is ignored.
  if (owns_mpi_ && mpiActive()) MPI_Finalize();
}

int launchedRanks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
    if (const char* v = std::getenv(name)) return std::atoi(v);
  }
  return 1;
}

int launcherLocalRank() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
    if (const char* v = std::getenv(name)) return std::atoi(v);
  }
  return 0;
}

void abortJob(const std::string& message) {
  std::fprintf(stderr, "rank %d: %s\n", worldRank(), message.c_str());
  std::fflush(stderr);
  if (mpiActive()) MPI_Abort(MPI_COMM_WORLD, 1);
  std::exit(1);
}

}  // namespace kgrec
