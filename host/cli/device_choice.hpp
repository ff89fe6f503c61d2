#pragma once
#include <string>

#include "gradflow/devices.hpp"
#include "gradflow/options.hpp"

namespace gradflow::cli {

/// In an MPI job whose `requested` backend resolves to CUDA: makes the calling thread's device the
/// one this rank binds to — its rank on the node, modulo the node's devices. Otherwise nothing.
void bind_rank_to_device(backend_kind requested);

/// The devices a run's chunks are split over: `--devices` ("0,1,3", or "all" for every CUDA device
/// that answers); with none given, the calling thread (bound by bind_rank_to_device). With the CPU
/// backend (`requested` resolving to cpu) a list only sets how many parts run.
device_set devices_for_run(const std::string& devices, backend_kind requested);

}  // namespace gradflow::cli
