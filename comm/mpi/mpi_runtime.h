#pragma once
// The MPI process environment: one MpiRuntime per process, created first thing in main()
// and destroyed last, after every process group.

#include <string>

namespace kgrec {

class MpiRuntime {
 public:
  // Initialises MPI with MPI_THREAD_MULTIPLE, unless the caller already has: the process
  // groups run their collectives on a worker thread while other threads may call MPI too.
  // Sets MPI_ERRORS_RETURN on MPI_COMM_WORLD so that failures become CommError, not aborts.
  // Throws CommError if this MPI has no MPI_THREAD_MULTIPLE.
  MpiRuntime(int* argc, char*** argv);
  // Finalises MPI if this object initialised it.
  ~MpiRuntime();
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Rank and count of the processes on this node (MPI_Comm_split_type SHARED): a rank binds
  // GPU localRank().
  int localRank() const { return local_rank_; }
  int localSize() const { return local_size_; }

 private:
  bool owns_mpi_ = false;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
};

// The number of ranks the launcher (mpirun, srun) started, from its environment, without
// initialising MPI: 1 for a process started on its own.
int launchedRanks();
// This process's rank among those the launcher started on its node, from the launcher's
// environment (Open MPI, MPICH/Hydra, Slurm): 0 for a process started on its own.
int launcherLocalRank();

// Prints "rank R: message" to stderr and ends every rank of the job (MPI_Abort on
// MPI_COMM_WORLD, exit code 1): a rank that stops alone would leave the others hanging in
// their next collective. Falls back to std::exit(1) outside MPI.
[[noreturn]] void abortJob(const std::string& message);

}  // namespace kgrec
