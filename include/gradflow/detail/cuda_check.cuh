#pragma once
#include <cuda_runtime.h>

#include <string>

#include "gradflow/error.hpp"

/// Throw gradflow::device_error naming the call, file and line when a CUDA runtime call fails. Used
/// after every call and every kernel launch.
#define GRADFLOW_CUDA_CHECK(call)                                                          \
  do {                                                                                     \
    const cudaError_t gradflow_status_ = (call);                                           \
    if (gradflow_status_ != cudaSuccess)                                                   \
      throw ::gradflow::device_error(std::string(#call) + " failed at " + __FILE__ + ":" + \
                                     std::to_string(__LINE__) + ": " +                     \
                                     cudaGetErrorString(gradflow_status_));                \
  } while (0)
