#pragma once
// A per-member table written chunk by chunk: each finished chunk's rows (and the lines of a side
// file: a trace, trained weights) appended and forced to disk, then recorded in a journal
// `<table>.progress`, so an interrupted run loses nothing it finished and `--resume` completes it.
// Shared by `sweep` and `train`.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradflow/result.hpp"
#include "mpi_job.hpp"

namespace gradflow::cli {

/// How many member rows a table's text holds and the first and last member's index.
struct member_rows {
  std::int64_t count = 0;
  std::int64_t first = -1;
  std::int64_t last = -1;
};

/// One chunk's output: its rows and side lines, and its wall time.
struct chunk_output {
  std::string rows;
  std::string side;
  double wall_seconds = 0;
};

struct chunked_plan {
  std::string table;    ///< empty: no table (rows stay with the caller)
  std::string journal;  ///< `<table>.progress`
  std::string side;     ///< a file appended with each chunk; empty: none
  std::string header, side_header;
  /// What determines the rows: a resumed run must match it exactly.
  nlohmann::json settings;
  std::int64_t first = 0, end = 0;  ///< the members of this run
  std::optional<std::int64_t> chunk;
  bool resume = false;
  /// Parses a table's text (header included) into its member rows; throws gradflow::error when it
  /// is no such table.
  std::function<member_rows(const std::string& text)> rows_in;
};

struct chunked_outcome {
  bool interrupted = false;
  std::int64_t next = 0;  ///< the first member not saved
  /// Alone: of every chunk's solves; shared among ranks: of the run. The interrupted run's
  /// included.
  double wall_seconds = 0;
  std::string rows;             ///< every chunk's rows, in member order, when the plan has no table
  std::vector<rank_work> work;  ///< what each rank computed in this run (rank 0 knows)
};

/// The flag a Ctrl-C sets (a second one stops at once); installed by run_chunked.
bool interrupt_requested();

/// Runs members [first, end) in chunks by `produce(first, count)`, which may lower `count` (to
/// retry a chunk that did not fit in memory) and throws gradflow::interrupted when stopped. Writes
/// the header (or on resume checks the table and side file against the journal and cuts a torn
/// tail), appends every chunk and journals it; the journal is removed by finish_chunked. On Ctrl-C
/// a chunked run finishes its running chunk; the message then says how to resume.
/// In an MPI job every rank calls it: rank 0 does the file work and hands the chunks out to every
/// rank (share_chunks; without --chunk, in guided chunks that shrink as the members run out), the
/// others only compute; the table is the one a single process writes, byte for byte.
chunked_outcome run_chunked(
    const chunked_plan& plan,
    const std::function<chunk_output(std::int64_t, std::int64_t&)>& produce);

/// For an interrupted run: says on stderr how many members are saved and how to finish; returns
/// 130 (the exit status of a Ctrl-C).
int report_interrupt(const chunked_plan& plan, const chunked_outcome& outcome);

/// A finished run's sidecar: its settings, then gradflow_version, date, command (the command
/// line), wall_seconds, table, status_counts, the backend and device of its last solve, and ranks:
/// what each process computed in this invocation (members, chunks, busy and CPU seconds).
nlohmann::json run_sidecar(const nlohmann::json& settings, const std::string& command_line,
                           const std::string& table, const chunked_outcome& outcome,
                           const std::vector<run_summary>& runs,
                           const nlohmann::json& status_counts);

/// After a complete run: removes the journal.
void finish_chunked(const chunked_plan& plan);

}  // namespace gradflow::cli
