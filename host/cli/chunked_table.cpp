#include "chunked_table.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>

#include "gradflow/error.hpp"
#include "gradflow/version.hpp"
#include "json_file.hpp"
#include "mpi_job.hpp"
#include "output_files.hpp"

namespace gradflow::cli {
namespace {

/// FNV-1a (64 bits) of the settings' text: a journal whose settings were edited no longer matches.
std::string settings_digest(const nlohmann::json& settings) {
  std::uint64_t hash = 14695981039346656037ull;
  for (const unsigned char c : settings.dump()) hash = (hash ^ c) * 1099511628211ull;
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

/// Where a chunked run stands: what the journal records after each chunk.
struct journal_entry {
  std::int64_t chunk = 0;
  std::int64_t next_member = 0;
  std::uint64_t bytes = 0;       ///< the table's length when next_member was reached
  std::uint64_t side_bytes = 0;  ///< the side file's length then (0 without one)
  double wall_seconds = 0;
};

/// The journal, checked against this run (its settings, members [first, end)): every key present
/// with a sane value, the digest matching the settings, the settings matching this run's. Anything
/// else is refused with one line naming the journal and what is wrong.
journal_entry read_journal(const chunked_plan& plan) {
  const std::string& path = plan.journal;
  if (!std::filesystem::exists(path))
    throw io_error("cannot --resume: no journal '" + path + "' (nothing was interrupted?)");
  const nlohmann::json journal = read_json_file(path, "journal");
  const auto damaged = [&](const std::string& why) {
    return invalid_argument("cannot --resume: the journal '" + path + "' is damaged: " + why +
                            " (delete it to start over)");
  };
  if (!journal.is_object()) throw damaged("not a JSON object");
  const auto integer = [&](const char* key, std::int64_t lowest, std::int64_t highest) {
    const auto found = journal.find(key);
    if (found == journal.end()) throw damaged(std::string("'") + key + "' is missing");
    try {
      return json_integer<std::int64_t>(*found, std::string("'") + key + "'", lowest, highest);
    } catch (const invalid_argument& e) {
      throw damaged(e.what());
    }
  };
  if (!journal.contains("settings") || !journal.contains("settings_digest") ||
      !journal["settings_digest"].is_string())
    throw damaged("'settings' or 'settings_digest' is missing");
  if (journal["settings_digest"].get<std::string>() != settings_digest(journal["settings"]))
    throw damaged("its settings do not match their digest");
  if (journal["settings"] != plan.settings)
    throw invalid_argument(
        "cannot --resume: the settings differ from the interrupted run's (see '" + path + "')");
  journal_entry entry;
  const std::int64_t largest = std::numeric_limits<std::int64_t>::max();
  entry.chunk = integer("chunk", 1, largest);
  entry.next_member = integer("next_member", plan.first, plan.end);
  entry.bytes = std::uint64_t(integer("bytes", 0, largest));
  entry.side_bytes = std::uint64_t(integer("side_bytes", 0, largest));
  const auto wall = journal.find("wall_seconds");
  if (wall == journal.end() || !wall->is_number() || !(wall->get<double>() >= 0))
    throw damaged("'wall_seconds' is missing or negative");
  entry.wall_seconds = wall->get<double>();
  return entry;
}

/// The table's first `entry.bytes` bytes must be exactly what the finished chunks wrote: the header
/// and the rows of members [first, next_member), in order. The rest is a torn tail to cut off.
void check_table_against_journal(const chunked_plan& plan, const journal_entry& entry) {
  const auto refuse = [&](const std::string& why) {
    return invalid_argument(
        "cannot --resume: the table '" + plan.table + "' " + why + " its journal '" + plan.journal +
        "' records: it was changed after the run (delete the journal to start over)");
  };
  std::error_code unreadable;
  const std::uintmax_t size = std::filesystem::file_size(plan.table, unreadable);
  if (unreadable) throw io_error("cannot --resume: cannot read the table '" + plan.table + "'");
  if (size < entry.bytes)
    throw refuse("holds " + std::to_string(size) + " bytes, fewer than the " +
                 std::to_string(entry.bytes) + " bytes");
  std::ifstream in(plan.table, std::ios::binary);
  std::string text(entry.bytes, '\0');
  in.read(text.data(), std::streamsize(text.size()));
  if (std::uint64_t(in.gcount()) != entry.bytes)
    throw io_error("cannot --resume: cannot read the table '" + plan.table + "'");
  if (text.compare(0, plan.header.size(), plan.header) != 0)
    throw refuse("has another header than");
  member_rows rows;
  try {
    rows = plan.rows_in(text);
  } catch (const gradflow::error&) {
    throw refuse("holds other rows than");
  }
  const std::int64_t expected = entry.next_member - plan.first;
  const bool in_order =
      rows.count == 0 || (rows.first == plan.first && rows.last == entry.next_member - 1);
  if (rows.count != expected || !in_order)
    throw refuse("holds " + std::to_string(rows.count) + " rows, not the " +
                 std::to_string(expected) + " of members [" + std::to_string(plan.first) + ", " +
                 std::to_string(entry.next_member) + ") that");
}

/// Appends `text` and forces it to disk before the journal may say so.
void append_durably(const std::string& path, const std::string& text) {
  const int descriptor = ::open(path.c_str(), O_WRONLY | O_APPEND);
  bool ok = descriptor >= 0;
  std::size_t written = 0;
  while (ok && written < text.size()) {
    const ssize_t step = ::write(descriptor, text.data() + written, text.size() - written);
    ok = step > 0;
    if (ok) written += std::size_t(step);
  }
  ok = ok && ::fsync(descriptor) == 0;
  if (descriptor >= 0) ::close(descriptor);
  if (!ok) throw io_error("cannot append to '" + path + "': " + std::strerror(errno));
}

volatile std::sig_atomic_t interrupt_flag = 0;
extern "C" void on_interrupt(int) {
  interrupt_flag = 1;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C stops at once; finished chunks are safe anyway
}

/// A run that would start over where an interrupted run left finished rows (its journal remains
/// and its table holds more than a header) is refused: the rows cost what a resume would save.
void refuse_to_discard_saved_rows(const chunked_plan& plan) {
  std::error_code unreadable;
  if (plan.table.empty() || !std::filesystem::exists(plan.journal, unreadable)) return;
  const std::uintmax_t size = std::filesystem::file_size(plan.table, unreadable);
  if (unreadable || size <= plan.header.size()) return;
  throw invalid_argument(
      "'" + plan.table + "' holds the finished rows of an interrupted run (its journal '" +
      plan.journal + "'): add --resume to finish it, or delete the journal to start over");
}

}  // namespace

bool interrupt_requested() { return interrupt_flag != 0; }

chunked_outcome run_chunked(
    const chunked_plan& plan,
    const std::function<chunk_output(std::int64_t, std::int64_t&)>& produce) {
  const rank_place here = this_rank();
  chunked_outcome outcome;
  outcome.next = plan.first;
  const std::int64_t members = std::max<std::int64_t>(plan.end - plan.first, 1);
  // Shared among ranks without --chunk: guided chunks (mpi_job.hpp). Alone, one chunk is fastest.
  const bool guided = here.distributed() && !plan.chunk;
  std::int64_t chunk = plan.chunk ? *plan.chunk
                       : guided   ? guided_chunk(members, members, here.ranks)
                                  : members;
  const bool side = !plan.side.empty();
  // Rank 0 checks a resume before any rank starts, and writes only once all are ready.
  std::optional<journal_entry> resumed;
  if (here.owns_outputs() && plan.resume) {
    resumed = read_journal(plan);
    check_table_against_journal(plan, *resumed);
    if (side) {
      std::error_code error;
      const std::uintmax_t size = std::filesystem::file_size(plan.side, error);
      if (error || size < resumed->side_bytes)
        throw invalid_argument("cannot --resume: the file '" + plan.side +
                               "' is shorter than its journal records (delete the journal '" +
                               plan.journal + "' to start over)");
    }
  }
  if (here.owns_outputs() && !plan.resume) refuse_to_discard_saved_rows(plan);
  bool reports = false;
  const int failed = start_together(0, reports);
  if (failed != 0) throw reported_by_another_rank();
  if (resumed) {
    outcome.next = resumed->next_member;
    chunk = resumed->chunk;
    outcome.wall_seconds = resumed->wall_seconds;
    std::filesystem::resize_file(plan.table, resumed->bytes);  // cut a torn tail
    if (side) std::filesystem::resize_file(plan.side, resumed->side_bytes);
  } else if (here.owns_outputs()) {
    if (!plan.table.empty()) write_atomically(plan.table, plan.header, "--out");
    if (side) write_atomically(plan.side, plan.side_header, plan.side.c_str());
  }

  const auto save_journal = [&] {
    const nlohmann::json journal = {
        {"settings", plan.settings},
        {"settings_digest", settings_digest(plan.settings)},
        {"chunk", chunk},
        {"next_member", outcome.next},
        {"bytes", std::filesystem::file_size(plan.table)},
        {"wall_seconds", outcome.wall_seconds},
        {"side_bytes", side ? std::filesystem::file_size(plan.side) : 0}};
    write_atomically(plan.journal, journal.dump(2) + "\n", "the journal");
  };
  if (here.owns_outputs() && !plan.table.empty() && !plan.resume) save_journal();
  // Members [first, first + count) exactly: a chunk too large for memory is run in the parts
  // `produce` lowers it to, and later chunks start at the size that fitted.
  std::int64_t fitting = chunk;
  const auto compute = [&](std::int64_t first, std::int64_t count) {
    computed_chunk done;
    for (std::int64_t finished = 0; finished < count;) {
      std::int64_t part = std::min(fitting, count - finished);
      const chunk_output output = produce(first + finished, part);
      fitting = std::min(fitting, part);
      finished += part;
      done.rows += output.rows;
      done.side += output.side;
      done.wall_seconds += output.wall_seconds;
    }
    return done;
  };
  const auto started = std::chrono::steady_clock::now();
  const double wall_before = outcome.wall_seconds;
  const auto save = [&](const computed_chunk& done) {
    outcome.next = done.first + done.count;
    // Alone, the solves' own time; shared, the run's: the ranks' solves overlap.
    outcome.wall_seconds =
        here.distributed()
            ? wall_before +
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
            : outcome.wall_seconds + done.wall_seconds;
    if (side) append_durably(plan.side, done.side);
    if (plan.table.empty()) {
      outcome.rows += done.rows;
    } else {
      append_durably(plan.table, done.rows);
      save_journal();
    }
  };
  if (here.distributed()) {
    // Ctrl-C ends an MPI job like a kill (mpirun stops every rank): --resume finishes it.
    const auto chunk_size = [&](std::int64_t remaining) {
      return guided ? guided_chunk(remaining, members, here.ranks) : chunk;
    };
    outcome.work = share_chunks(outcome.next, plan.end, chunk_size, compute, save);
    return outcome;
  }
  std::signal(SIGINT, on_interrupt);
  rank_work mine;
  while (outcome.next < plan.end) {
    computed_chunk done;
    try {
      done = compute_measured(compute, outcome.next,
                              std::min({chunk, fitting, plan.end - outcome.next}), 0);
    } catch (const interrupted&) {
      outcome.interrupted = true;
      break;
    }
    mine.add(done);
    save(done);
    if (interrupt_requested() && outcome.next < plan.end) {
      outcome.interrupted = true;
      break;
    }
  }
  outcome.work = {mine};
  return outcome;
}

int report_interrupt(const chunked_plan& plan, const chunked_outcome& outcome) {
  std::cerr << "gradflow: interrupted; " << outcome.next - plan.first << " of "
            << plan.end - plan.first << " members are saved"
            << (plan.table.empty()
                    ? ""
                    : " in " + plan.table + "; run the same command with --resume to finish")
            << (plan.chunk ? "" : " (--chunk N saves members as they finish)") << "\n";
  return 130;
}

nlohmann::json run_sidecar(const nlohmann::json& settings, const std::string& command_line,
                           const std::string& table, const chunked_outcome& outcome,
                           const std::vector<run_summary>& runs,
                           const nlohmann::json& status_counts) {
  nlohmann::json sidecar = settings;
  sidecar["gradflow_version"] = version;
  sidecar["date"] = utc_now();
  sidecar["command"] = command_line;
  sidecar["wall_seconds"] = outcome.wall_seconds;
  sidecar["table"] = table;
  if (!runs.empty()) {
    sidecar["backend"] = to_string(runs.back().backend);
    sidecar["device"] = runs.back().device;
  }
  sidecar["status_counts"] = status_counts;
  nlohmann::json ranks = nlohmann::json::array();
  for (std::size_t rank = 0; rank < outcome.work.size(); ++rank) {
    const rank_work& work = outcome.work[rank];
    ranks.push_back({{"rank", rank},
                     {"members", work.members},
                     {"chunks", work.chunks},
                     {"busy_seconds", work.busy_seconds},
                     {"cpu_seconds", work.cpu_seconds}});
  }
  sidecar["ranks"] = ranks;
  return sidecar;
}

void finish_chunked(const chunked_plan& plan) {
  if (!plan.journal.empty()) std::filesystem::remove(plan.journal);
}

}  // namespace gradflow::cli
