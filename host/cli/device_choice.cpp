#include "device_choice.hpp"

#include <algorithm>
#include <vector>

#include "gradflow/error.hpp"
#include "mpi_job.hpp"
#include "split_list.hpp"

namespace gradflow::cli {

namespace {

/// Whether `requested` runs on a CUDA device here. Without one a CUDA run fails in its solves, with
/// their message; nothing is bound.
bool runs_on_cuda(backend_kind requested) {
  return cuda_device_count() > 0 && requested != backend_kind::cpu &&
         solver_context::resolve(requested, true, "") == backend_kind::cuda;
}

}  // namespace

void bind_rank_to_device(backend_kind requested) {
  if (this_rank().distributed() && runs_on_cuda(requested))
    use_cuda_device(this_rank().node_rank % cuda_device_count());
}

device_set devices_for_run(const std::string& devices, backend_kind requested) {
  if (devices.empty()) {
    bind_rank_to_device(requested);
    return device_set({}, false);
  }
  const bool on_cuda = runs_on_cuda(requested);
  const int answering = cuda_device_count();
  std::vector<int> ordinals;
  if (devices == "all") {
    if (answering == 0)
      throw no_device("invalid devices = 'all': no CUDA device answers (no driver or no GPU)");
    for (int d = 0; d < answering; ++d) ordinals.push_back(d);
    return device_set(ordinals, on_cuda);
  }
  for (const std::string& item : split_list(devices, ',')) {
    const bool digits =
        !item.empty() && item.size() <= 4 &&
        std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits)
      throw invalid_argument("invalid devices = '" + devices +
                             "': expected 'all' or device numbers such as 0,1");
    ordinals.push_back(std::stoi(item));
    if (on_cuda && ordinals.back() >= answering)
      throw no_device("invalid devices = '" + devices + "': device " + item + " does not answer (" +
                      std::to_string(answering) + " CUDA device(s) do)");
  }
  return device_set(ordinals, on_cuda);
}

}  // namespace gradflow::cli
