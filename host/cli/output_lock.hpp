#pragma once
#include <string>
#include <vector>

namespace gradflow::cli {

/// An exclusive lock on an output for a run's lifetime, so two runs never write one file at once:
/// flock(2) on `<path>.lock`, which holds the owner's process id. A second run is refused with
/// io_error naming the file and that process. The lock file is removed when the run ends; one that
/// a killed run left behind is unlocked and simply taken over (the kernel drops flock locks with
/// their process).
class output_lock {
public:
  output_lock(const std::string& path, const std::string& option);
  ~output_lock();
  output_lock(const output_lock&) = delete;
  output_lock& operator=(const output_lock&) = delete;
  output_lock(output_lock&& other) noexcept;
  output_lock& operator=(output_lock&&) = delete;

private:
  std::string lock_path_;
  int descriptor_ = -1;
};

/// Locks every (path, option) of `outputs`, in order; all or none. In an MPI job rank 0 alone
/// writes, so the other ranks take no locks.
std::vector<output_lock> lock_outputs(
    const std::vector<std::pair<std::string, std::string>>& outputs);

}  // namespace gradflow::cli
