#pragma once
#include <cuda_runtime.h>

#include <string>

#include "gradflow/error.hpp"

/// Throw gradflow::device_error naming the call, file and line when a device library call returns
/// anything but `success`; `describe` turns the status into words.
#define GRADFLOW_DEVICE_CHECK(call, success, describe)                                     \
  do {                                                                                     \
    const auto gradflow_status_ = (call);                                                  \
    if (gradflow_status_ != (success))                                                     \
      throw ::gradflow::device_error(std::string(#call) + " failed at " + __FILE__ + ":" + \
                                     std::to_string(__LINE__) + ": " +                     \
                                     describe(gradflow_status_));                          \
  } while (0)

/// After every CUDA runtime call and every kernel launch.
#define GRADFLOW_CUDA_CHECK(call) GRADFLOW_DEVICE_CHECK(call, cudaSuccess, cudaGetErrorString)
