#pragma once
#include <memory>
#include <string>
#include <type_traits>

#include "gradflow/detail/engine.hpp"

namespace gradflow {

/// What repeated solves share: the engines — on a GPU its stream, cuBLAS and cuSOLVER handles,
/// events and per-problem buffers (kept at their largest size) — so that sweeps, chunks and outer
/// loops do not recreate them. Pass one to solve, solve_objectives or run_sweep; a context serves
/// one solve at a time.
class solver_context {
public:
  /// The engine for `requested` (see detail::make_engine), created on first use and kept while
  /// the same kind is asked for.
  template <class Real>
  detail::engine<Real>& engine_for(backend_kind requested, bool model_on_cuda,
                                   const std::string& why_not_cuda) {
    auto& kept = kept_engine<Real>();
    const backend_kind wanted = resolve(requested, model_on_cuda, why_not_cuda);
    if (!kept || kept->kind() != wanted)
      kept = wanted == backend_kind::cuda ? detail::make_cuda_engine<Real>()
                                          : detail::make_cpu_engine<Real>();
    return *kept;
  }

  /// cpu or cuda for `requested`: automatic picks cuda when the model can run there (it was
  /// compiled for it) and a device answers. Throws not_compiled (with `why_not_cuda` when the model
  /// cannot) or no_device for a cuda that cannot be had.
  static backend_kind resolve(backend_kind requested, bool model_on_cuda,
                              const std::string& why_not_cuda);

private:
  template <class Real>
  std::unique_ptr<detail::engine<Real>>& kept_engine() {
    if constexpr (std::is_same_v<Real, float>)
      return single_;
    else
      return double_;
  }
  std::unique_ptr<detail::engine<float>> single_;
  std::unique_ptr<detail::engine<double>> double_;
};

}  // namespace gradflow
