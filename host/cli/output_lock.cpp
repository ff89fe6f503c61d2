#include "output_lock.hpp"

#include "mpi_job.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "gradflow/error.hpp"

namespace gradflow::cli {

output_lock::output_lock(const std::string& path, const std::string& option)
    : lock_path_(path + ".lock") {
  // A lock file can be unlinked by its finishing owner between our open and our flock: then we
  // hold a lock on a name nobody else sees, so check that the name still leads to what we locked.
  for (int attempt = 0; attempt < 100; ++attempt) {
    descriptor_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (descriptor_ < 0)
      throw io_error("cannot write " + option + " '" + path + "': cannot create its lock '" +
                     lock_path_ + "': " + std::strerror(errno));
    if (::flock(descriptor_, LOCK_EX | LOCK_NB) != 0) {
      char holder[32] = {};
      const ssize_t size = ::pread(descriptor_, holder, sizeof holder - 1, 0);
      ::close(descriptor_);
      descriptor_ = -1;
      const std::string pid = size > 0 ? std::string(holder, std::size_t(size)) : "?";
      throw io_error(option + " '" + path + "' is being written by another gradflow run (process " +
                     pid.substr(0, pid.find('\n')) + ", lock '" + lock_path_ + "')");
    }
    struct stat held {
    }, named{};
    if (::fstat(descriptor_, &held) == 0 && ::stat(lock_path_.c_str(), &named) == 0 &&
        held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
      const std::string pid = std::to_string(::getpid()) + "\n";
      const bool noted = ::ftruncate(descriptor_, 0) == 0 &&
                         ::pwrite(descriptor_, pid.data(), pid.size(), 0) == ssize_t(pid.size());
      (void)noted;  // the lock holds all the same; a refused run then names no process
      return;
    }
    ::close(descriptor_);
    descriptor_ = -1;
  }
  throw io_error("cannot lock " + option + " '" + path + "': '" + lock_path_ + "' keeps changing");
}

output_lock::output_lock(output_lock&& other) noexcept
    : lock_path_(std::move(other.lock_path_)), descriptor_(other.descriptor_) {
  other.descriptor_ = -1;
}

output_lock::~output_lock() {
  if (descriptor_ < 0) return;
  ::unlink(lock_path_.c_str());  // while still holding it, so no one can take the stale name
  ::close(descriptor_);
}

std::vector<output_lock> lock_outputs(
    const std::vector<std::pair<std::string, std::string>>& outputs) {
  std::vector<output_lock> locks;
  if (!this_rank().owns_outputs()) return locks;
  locks.reserve(outputs.size());
  for (const auto& [path, option] : outputs) locks.emplace_back(path, option);
  return locks;
}

}  // namespace gradflow::cli
