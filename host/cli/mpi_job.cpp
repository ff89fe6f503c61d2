#include "mpi_job.hpp"

#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "byte_stream.hpp"
#include "exit_code.hpp"
#include "gradflow/error.hpp"

namespace gradflow::cli {
namespace {

rank_place place;
bool mpi_started = false;
bool started = false;
/// Whether rank 0 computes beside handing out chunks: its hand-out then runs on a second thread,
/// which needs MPI_THREAD_SERIALIZED (MPI calls from a thread other than main's, one at a time).
bool rank_zero_computes = false;

/// Launchers say so in the environment: Open MPI's mpirun, PMIx (srun, mpirun), PMI-1/2 (MPICH,
/// srun --mpi=pmi2). A plain `gradflow sweep` never starts MPI.
bool launched_as_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

// Messages between rank 0 and the others.
constexpr int ask_tag = 1;      ///< rank → 0: the first request for a chunk
constexpr int result_tag = 2;   ///< rank → 0: a computed chunk, and a request for the next
constexpr int failure_tag = 3;  ///< rank → 0: its exit code and message; it asks for nothing more
constexpr int assign_tag = 4;   ///< 0 → rank: {first, count}; count 0 means stop

/// Calls `visit` with each field of `chunk` that travels, in one order (the rank is the sender's).
template <class Visit, class Chunk>
void for_each_field(Visit&& visit, Chunk& chunk) {
  visit(chunk.first);
  visit(chunk.count);
  visit(chunk.wall_seconds);
  visit(chunk.busy_seconds);
  visit(chunk.cpu_seconds);
  visit(chunk.rows);
  visit(chunk.side);
}

std::string packed(const computed_chunk& chunk) {
  byte_writer out;
  for_each_field([&](const auto& value) { out.put(value); }, chunk);
  return std::move(out.bytes());
}

computed_chunk unpacked(const std::string& bytes, int rank) {
  computed_chunk chunk;
  byte_reader in(bytes);
  for_each_field([&](auto& value) { in.take(value); }, chunk);
  chunk.rank = rank;
  return chunk;
}

void send_bytes(const std::string& bytes, int tag) {
  MPI_Send(bytes.data(), int(bytes.size()), MPI_BYTE, 0, tag, MPI_COMM_WORLD);
}

/// The next message to rank 0 if one is waiting: its bytes, source and tag.
bool receive_any(std::string& bytes, int& source, int& tag) {
  int waiting = 0;
  MPI_Status status;
  MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &waiting, &status);
  if (!waiting) return false;
  int size = 0;
  MPI_Get_count(&status, MPI_BYTE, &size);
  bytes.assign(std::size_t(size), '\0');
  source = status.MPI_SOURCE;
  tag = status.MPI_TAG;
  MPI_Recv(bytes.data(), size, MPI_BYTE, source, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return true;
}

/// The first failure of a shared run, and which rank had it.
struct failure {
  bool happened = false;
  int code = 0, rank = 0;
  std::string message;
};

/// Rank 0's side of share_chunks: the hand-out of chunks, the ones computed out of order held until
/// those before them are saved, each rank's work.
class chunk_desk {
public:
  chunk_desk(std::int64_t first, std::int64_t end,
             const std::function<std::int64_t(std::int64_t)>& chunk_size,
             const std::function<void(const computed_chunk&)>& save)
      : next_(first),
        saved_up_to_(first),
        end_(end),
        chunk_size_(chunk_size),
        save_(save),
        work_(std::size_t(place.ranks)) {}

  /// The next chunk {first, count}; count 0 once all are out or a rank failed.
  std::pair<std::int64_t, std::int64_t> hand_out() {
    const std::lock_guard<std::mutex> hold(mutex_);
    if (failure_.happened || next_ >= end_) return {next_, 0};
    const std::int64_t count = std::clamp<std::int64_t>(chunk_size_(end_ - next_), 1, end_ - next_);
    next_ += count;
    return {next_ - count, count};
  }

  /// Takes a computed chunk; saves it and every held one that now follows the saved ones.
  void deliver(computed_chunk&& done) {
    const std::lock_guard<std::mutex> hold(mutex_);
    work_[std::size_t(done.rank)].add(done);
    held_.emplace(done.first, std::move(done));
    while (!held_.empty() && held_.begin()->first == saved_up_to_) {
      const auto node = held_.extract(held_.begin());
      try {
        save_(node.mapped());
      } catch (const std::exception& e) {
        fail_locked(0, exit_code_of(e), e.what());
        return;
      }
      saved_up_to_ += node.mapped().count;
    }
  }

  void fail(int rank, int code, const std::string& message) {
    const std::lock_guard<std::mutex> hold(mutex_);
    fail_locked(rank, code, message);
  }

  /// After every rank has stopped: throws the first failure, naming its rank.
  std::vector<rank_work> conclude() const {
    if (failure_.happened) {
      const std::string what = "rank " + std::to_string(failure_.rank) + ": " + failure_.message;
      if (failure_.code == 2) throw invalid_argument(what);
      throw error(what);
    }
    if (saved_up_to_ != end_)
      throw error("internal: the shared run saved members up to " + std::to_string(saved_up_to_) +
                  " of " + std::to_string(end_));
    return work_;
  }

private:
  void fail_locked(int rank, int code, const std::string& message) {
    if (failure_.happened) return;
    failure_ = {true, code, rank, message};
  }

  std::mutex mutex_;
  std::int64_t next_, saved_up_to_;
  const std::int64_t end_;
  const std::function<std::int64_t(std::int64_t)>& chunk_size_;
  const std::function<void(const computed_chunk&)>& save_;
  std::map<std::int64_t, computed_chunk> held_;
  std::vector<rank_work> work_;
  failure failure_;
};

/// Rank 0 answers the other ranks until each has been told to stop or has failed. Polls with a
/// short sleep: a blocking receive would spin a core that rank 0's own solves need.
void serve_ranks(chunk_desk& desk) {
  int active = place.ranks - 1;
  std::string bytes;
  int source = 0, tag = 0;
  while (active > 0) {
    if (!receive_any(bytes, source, tag)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    if (tag == failure_tag) {
      byte_reader in(bytes);
      int code = 0;
      std::string message;
      in.take(code);
      in.take(message);
      desk.fail(source, code, message);
      --active;
      continue;
    }
    if (tag == result_tag) desk.deliver(unpacked(bytes, source));
    const auto [first, count] = desk.hand_out();
    const std::int64_t assignment[2] = {first, count};
    MPI_Send(assignment, 2, MPI_INT64_T, source, assign_tag, MPI_COMM_WORLD);
    if (count == 0) --active;
  }
}

/// Rank 0's own share: chunks from the desk, computed here, until none is left.
void compute_on_rank_zero(
    chunk_desk& desk, const std::function<computed_chunk(std::int64_t, std::int64_t)>& compute) {
  for (;;) {
    const auto [first, count] = desk.hand_out();
    if (count == 0) return;
    try {
      desk.deliver(compute_measured(compute, first, count, 0));
    } catch (const std::exception& e) {
      desk.fail(0, exit_code_of(e), e.what());
      return;
    }
  }
}

/// A rank other than 0: asks for chunks, computes them and sends them back until told to stop.
void compute_for_rank_zero(
    const std::function<computed_chunk(std::int64_t, std::int64_t)>& compute) {
  send_bytes(std::string(), ask_tag);
  for (;;) {
    std::int64_t assignment[2] = {0, 0};
    MPI_Recv(assignment, 2, MPI_INT64_T, 0, assign_tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (assignment[1] == 0) return;
    std::string result;
    int code = 0;
    std::string message;
    try {
      result = packed(compute_measured(compute, assignment[0], assignment[1], place.rank));
      // One MPI message counts its bytes in an int.
      if (result.size() > std::size_t(std::numeric_limits<int>::max()))
        throw error("the rows of a chunk of " + std::to_string(assignment[1]) + " members take " +
                    std::to_string(result.size()) +
                    " bytes, more than one MPI message holds (2 GiB): pass a smaller --chunk");
    } catch (const std::exception& e) {
      code = exit_code_of(e);
      message = e.what();
    }
    if (code != 0) {
      byte_writer out;
      out.put(code);
      out.put(message);
      send_bytes(out.bytes(), failure_tag);
      throw reported_by_another_rank();
    }
    send_bytes(result, result_tag);
  }
}

}  // namespace

mpi_session::mpi_session(int& argc, char**& argv) {
  if (!launched_as_rank()) return;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  mpi_started = true;
  rank_zero_computes = provided >= MPI_THREAD_SERIALIZED;
  MPI_Comm_rank(MPI_COMM_WORLD, &place.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &place.ranks);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, place.rank, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &place.node_rank);
  MPI_Comm_free(&node);
}

mpi_session::~mpi_session() {
  if (mpi_started) MPI_Finalize();
}

std::string mpi_description() {
  char library[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(library, &length);
  std::string version(library, std::size_t(length));
  version = version.substr(0, version.find_first_of(",\n"));
  return "on (" + version + ")";
}

rank_place this_rank() { return place; }

int start_together(int code, bool& reports) {
  started = true;
  if (!place.distributed()) {
    reports = code != 0;
    return code;
  }
  const int candidate = code != 0 ? place.rank : place.ranks;
  int lowest = place.ranks;
  MPI_Allreduce(&candidate, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  reports = lowest == place.rank;
  if (lowest == place.ranks) return 0;
  int agreed = code;
  MPI_Bcast(&agreed, 1, MPI_INT, lowest, MPI_COMM_WORLD);
  return agreed;
}

bool started_together() { return started; }

std::vector<rank_work> share_chunks(
    std::int64_t first, std::int64_t end,
    const std::function<std::int64_t(std::int64_t remaining)>& chunk_size,
    const std::function<computed_chunk(std::int64_t, std::int64_t)>& compute,
    const std::function<void(const computed_chunk&)>& save) {
  if (place.rank != 0) {
    compute_for_rank_zero(compute);
    return {};
  }
  chunk_desk desk(first, end, chunk_size, save);
  if (rank_zero_computes) {
    std::exception_ptr lost;
    std::thread server([&] {
      try {
        serve_ranks(desk);
      } catch (...) {
        lost = std::current_exception();
      }
    });
    compute_on_rank_zero(desk, compute);
    server.join();
    if (lost) std::rethrow_exception(lost);
  } else {
    serve_ranks(desk);
  }
  return desk.conclude();
}

}  // namespace gradflow::cli
