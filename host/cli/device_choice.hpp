#pragma once
#include <string>

#include "gradflow/devices.hpp"
#include "gradflow/options.hpp"

namespace gradflow::cli {

/// The devices a run's chunks are split over: `--devices` ("0,1,3", or "all" for every CUDA device
/// that answers), or, with none given, in an MPI job on CUDA, the one device this rank binds to —
/// its rank on the node, modulo the node's devices; otherwise the calling thread's default. With
/// the CPU backend (`requested` resolving to cpu) a list only sets how many parts run.
device_set devices_for_run(const std::string& devices, backend_kind requested);

}  // namespace gradflow::cli
