#pragma once
#include <cublas_v2.h>

#include "gradflow/detail/cuda_check.cuh"

#define GRADFLOW_CUBLAS_CHECK(call) \
  GRADFLOW_DEVICE_CHECK(call, CUBLAS_STATUS_SUCCESS, cublasGetStatusString)
