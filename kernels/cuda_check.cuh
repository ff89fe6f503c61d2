#pragma once
#include <cublas_v2.h>

#include <string>

#include "gradflow/detail/cuda_check.cuh"

/// GRADFLOW_CUDA_CHECK's counterpart for cuBLAS calls.
#define GRADFLOW_CUBLAS_CHECK(call)                                                        \
  do {                                                                                     \
    const cublasStatus_t gradflow_status_ = (call);                                        \
    if (gradflow_status_ != CUBLAS_STATUS_SUCCESS)                                         \
      throw ::gradflow::device_error(std::string(#call) + " failed at " + __FILE__ + ":" + \
                                     std::to_string(__LINE__) + ": " +                     \
                                     cublasGetStatusString(gradflow_status_));             \
  } while (0)
