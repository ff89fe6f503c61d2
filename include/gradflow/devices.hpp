#pragma once
// Several devices in one process: a sweep's members split into one contiguous part per device, each
// part run by its own solver_context (stream, handles, buffers) on its own host thread, the results
// gathered in member order (README, "Clusters").
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "gradflow/solver_context.hpp"
#include "gradflow/sweep.hpp"

namespace gradflow {

/// Makes `device` the calling host thread's CUDA device: engines created and used on this thread
/// run there. Throws no_device for an ordinal no device answers to, not_compiled without CUDA.
void use_cuda_device(int device);

class device_set {
public:
  /// No devices named: one part, run on the calling thread with its current device (a plain
  /// solver_context). Otherwise one part per entry, each on a thread of its own: on CUDA ordinals
  /// when `on_cuda` (an ordinal may repeat: two streams on one GPU), else every part on the CPU
  /// backend — the same split, so that it is tested where there is no GPU.
  device_set(std::vector<int> devices, bool on_cuda)
      : devices_(std::move(devices)),
        on_cuda_(on_cuda),
        contexts_(std::max<std::size_t>(devices_.size(), 1)) {}

  /// `run_part(first, count, context)` for members [first, first + count) split into size()
  /// contiguous parts of sizes differing by at most one, run concurrently (with no devices named:
  /// on the calling thread); each non-empty part's first member and result, in member order. The
  /// first failing part's exception is rethrown once every part has ended.
  template <class RunPart>
  auto run_parts(std::int64_t first, std::int64_t count, const RunPart& run_part) {
    using part_result =
        std::invoke_result_t<const RunPart&, std::int64_t, std::int64_t, solver_context&>;
    std::vector<std::pair<std::int64_t, part_result>> parts;
    if (devices_.empty()) {
      parts.emplace_back(first, run_part(first, count, contexts_.front()));
      return parts;
    }
    const std::int64_t size = std::int64_t(devices_.size());
    std::vector<part_result> results(devices_.size());
    std::vector<std::exception_ptr> failures(devices_.size());
    std::vector<std::thread> threads;
    const auto begin_of = [&](std::int64_t p) { return first + count * p / size; };
    for (std::int64_t p = 0; p < size; ++p) {
      const std::int64_t begin = begin_of(p), end = begin_of(p + 1);
      if (begin == end) continue;
      threads.emplace_back([&, p, begin, end] {
        try {
          if (on_cuda_) use_cuda_device(devices_[std::size_t(p)]);
          results[std::size_t(p)] = run_part(begin, end - begin, contexts_[std::size_t(p)]);
        } catch (...) {
          failures[std::size_t(p)] = std::current_exception();
        }
      });
    }
    for (auto& thread : threads) thread.join();
    for (const auto& failure : failures)
      if (failure) std::rethrow_exception(failure);
    for (std::int64_t p = 0; p < size; ++p)
      if (begin_of(p) != begin_of(p + 1))
        parts.emplace_back(begin_of(p), std::move(results[std::size_t(p)]));
    return parts;
  }

  /// run_parts for a sweep: the parts' rows, traces and runs joined in member order, with the wall
  /// time of the whole.
  template <class RunPart>
  sweep_result split(std::int64_t first, std::int64_t count, const RunPart& run_part) {
    if (devices_.empty()) return run_part(first, count, contexts_.front());
    const auto started = std::chrono::steady_clock::now();
    sweep_result joined;
    for (auto& [part_first, part] : run_parts(first, count, run_part)) {
      if (joined.axes.empty()) joined.axes = part.axes;
      joined.rows.insert(joined.rows.end(), part.rows.begin(), part.rows.end());
      joined.trace.insert(joined.trace.end(), part.trace.begin(), part.trace.end());
      joined.runs.insert(joined.runs.end(), part.runs.begin(), part.runs.end());
    }
    joined.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return joined;
  }

  /// The number of parts a split makes.
  std::size_t size() const { return contexts_.size(); }

private:
  std::vector<int> devices_;
  bool on_cuda_;
  std::vector<solver_context> contexts_;
};

}  // namespace gradflow
