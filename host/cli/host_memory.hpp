#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace gradflow::cli {

/// The host memory a run can plan with, in bytes: MemAvailable + SwapFree of /proc/meminfo, or
/// less where the process's memory cgroup (v2 memory.max, v1 memory.limit_in_bytes; a Slurm job's,
/// say) is limited lower. GRADFLOW_HOST_MEMORY (bytes) sets it instead. nullopt where none can be
/// read (a run then allocates as it goes). Linux grants allocations past this and kills
/// the process when it touches them, so a run checks its estimate against it first.
std::optional<std::int64_t> host_memory_bytes();

/// Throws out_of_memory where `bytes` (what `what` needs at least) is more than host_memory_bytes
/// says there is: one line with both figures, instead of the kernel killing the run part-way.
void require_host_memory(double bytes, const std::string& what);

/// "1.5 GB": bytes for a message (three digits, in bytes, MB, GB or TB).
std::string memory_text(double bytes);

}  // namespace gradflow::cli
