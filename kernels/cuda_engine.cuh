#pragma once
#include <cublas_v2.h>

#include "gradflow/detail/engine.hpp"

namespace gradflow::detail {

/// The cuBLAS handle of a CUDA engine (bound to its stream), for models that evaluate with
/// cuBLAS; the engine must be the CUDA engine.
template <class Real>
cublasHandle_t cublas_handle_of(engine<Real>& engine);

}  // namespace gradflow::detail
