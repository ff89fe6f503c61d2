// Linked instead of mpi_job.cpp in a build without MPI: every run is a single process.
#include "gradflow/error.hpp"
#include "mpi_job.hpp"

namespace gradflow::cli {
namespace {
bool started = false;
}  // namespace

mpi_session::mpi_session(int&, char**&) {}
mpi_session::~mpi_session() = default;

std::string mpi_description() {
  return "off (not compiled into this build: no MPI library at configure time)";
}

rank_place this_rank() { return {}; }

int start_together(int code, bool& reports) {
  started = true;
  reports = code != 0;
  return code;
}

bool started_together() { return started; }

std::vector<rank_work> share_chunks(
    std::int64_t, std::int64_t, const std::function<std::int64_t(std::int64_t)>&,
    const std::function<computed_chunk(std::int64_t, std::int64_t)>&,
    const std::function<void(const computed_chunk&)>&) {
  throw not_compiled("sharing chunks between ranks needs a build with MPI");
}

}  // namespace gradflow::cli
