#pragma once
// The processes of one run: a single process, or the ranks of an MPI job (`mpirun -n N gradflow
// sweep …`, `srun gradflow sweep …`). MPI is optional at build time, like CUDA; a build without it
// (mpi_job_unavailable.cpp) is always a single process. Rank 0 owns the outputs (locks, journal,
// table, sidecar); every rank computes.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gradflow::cli {

/// Starts MPI for the scope of main when this process was launched as one rank of an MPI job (the
/// launcher's environment says so) in a build with MPI; otherwise does nothing.
class mpi_session {
public:
  mpi_session(int& argc, char**& argv);
  ~mpi_session();
  mpi_session(const mpi_session&) = delete;
  mpi_session& operator=(const mpi_session&) = delete;
};

/// "on (<library version>)" or why not: for `gradflow info`.
std::string mpi_description();

/// This process's place: rank `rank` of `ranks`, the `node_rank`-th on its node.
struct rank_place {
  int rank = 0;
  int ranks = 1;
  int node_rank = 0;
  bool distributed() const { return ranks > 1; }
  bool owns_outputs() const { return rank == 0; }
};
rank_place this_rank();

/// Every rank calls this once after its setup (arguments, inputs, and on rank 0 the outputs and
/// journal), with 0 or the exit code of its setup failure. Returns the job's code: the code of the
/// lowest failing rank, 0 when all are ready. `reports` is set on the one rank that should print
/// the failure and exit with it (the lowest failing one), so a mistake every rank makes prints
/// once; the others end quietly (reported_by_another_rank).
int start_together(int code, bool& reports);

/// Whether start_together has run: after it, failures travel by share_chunks instead.
bool started_together();

/// A failure that another rank reports: this rank ends quietly with exit status 0. The reporting
/// rank's status is the job's (mpirun exits with the first non-zero one); had this rank exited
/// non-zero first, mpirun could end the job before the report is printed or the last chunks saved.
struct reported_by_another_rank : std::runtime_error {
  reported_by_another_rank() : std::runtime_error("reported by another rank") {}
};

/// One chunk of members computed somewhere: what rank 0 saves of it (a table's rows, or a solve's
/// packed part) and side lines (a trace, trained weights), its solves' wall time,
/// and (filled in by share_chunks) the rank that computed it and the wall and CPU seconds it took
/// there.
struct computed_chunk {
  std::int64_t first = 0, count = 0;
  std::string rows, side;
  double wall_seconds = 0;
  int rank = 0;
  double busy_seconds = 0, cpu_seconds = 0;
};

/// What each rank did in share_chunks (rank 0's view of all of them).
struct rank_work {
  std::int64_t members = 0, chunks = 0;
  double busy_seconds = 0, cpu_seconds = 0;
  void add(const computed_chunk& done) {
    members += done.count;
    chunks += 1;
    busy_seconds += done.busy_seconds;
    cpu_seconds += done.cpu_seconds;
  }
};

/// `compute(first, count)` on this rank, with the wall and CPU seconds it took (the process's CPU
/// time: every thread of the solve, so a rank's work is comparable however many threads it runs).
/// `compute` fills in the rows, side lines and solve time.
inline computed_chunk compute_measured(
    const std::function<computed_chunk(std::int64_t, std::int64_t)>& compute, std::int64_t first,
    std::int64_t count, int rank) {
  const auto cpu_now = [] {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return double(now.tv_sec) + 1e-9 * double(now.tv_nsec);
  };
  const double cpu_start = cpu_now();
  const auto wall_start = std::chrono::steady_clock::now();
  computed_chunk done = compute(first, count);
  done.first = first;
  done.count = count;
  done.rank = rank;
  done.busy_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  done.cpu_seconds = cpu_now() - cpu_start;
  return done;
}

/// Guided self-scheduling of `members` shared among `ranks`: the next chunk is 1/(8·ranks) of the
/// `remaining` members not yet handed out, but no fewer than 1/(64·ranks) of all — large while much
/// is left, small at the end, so that costly members at the end leave no rank a long tail.
inline std::int64_t guided_chunk(std::int64_t remaining, std::int64_t members, int ranks) {
  const std::int64_t shares = 8 * std::int64_t(ranks);
  return std::max<std::int64_t>({1, members / (8 * shares), (remaining + shares - 1) / shares});
}

/// Dynamic distribution of members [first, end) over every rank, rank 0 included: a rank asks rank
/// 0 for the next chunk when it has sent its last one back, so members that cost 100× more idle no
/// one. The next chunk holds `chunk_size(members not yet handed out)` members (at least 1).
/// `compute(first, count)` computes a chunk on the rank it was handed to. On rank 0, `save`
/// receives the chunks in member order (one at a time, from whichever thread holds them); the other
/// ranks never call it. A failure on any rank stops the hand-out; rank 0 then throws it with the
/// rank named, after saving every chunk before it, and the failing rank throws
/// reported_by_another_rank.
/// Returns, on rank 0, each rank's work.
std::vector<rank_work> share_chunks(
    std::int64_t first, std::int64_t end,
    const std::function<std::int64_t(std::int64_t remaining)>& chunk_size,
    const std::function<computed_chunk(std::int64_t first, std::int64_t count)>& compute,
    const std::function<void(const computed_chunk&)>& save);

}  // namespace gradflow::cli
