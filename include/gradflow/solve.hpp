#pragma once
#include <string>
#include <vector>

#include "gradflow/least_squares.hpp"
#include "gradflow/options.hpp"
#include "gradflow/result.hpp"
#include "gradflow/solver_context.hpp"

namespace gradflow {

/// Integrates every problem's gradient flow U' = −∇f(U) in lockstep on the chosen backend, each
/// problem with its own t, dt, step control and status, and returns per-problem results.
/// Throws invalid_argument / dimension_mismatch for bad input or options (before any work),
/// not_compiled or no_device when the CUDA backend is requested but unavailable, device_error
/// when the device fails mid-run. A problem that does not converge is a status, not an exception.
template <class Real>
solve_result<Real> solve(const least_squares_batch<Real>& batch, const solve_options& options);
/// The same in `context`, whose engine (handles, stream, buffers) later solves reuse.
template <class Real>
solve_result<Real> solve(const least_squares_batch<Real>& batch, const solve_options& options,
                         solver_context& context);

extern template solve_result<float> solve(const least_squares_batch<float>&, const solve_options&);
extern template solve_result<double> solve(const least_squares_batch<double>&,
                                           const solve_options&);

/// The same on a non-owning view (least_squares_view: pointers, strides, an optional problem
/// index), nothing copied: checked member by member (validate(view)); skip_invalid solves a copy.
template <class Real>
solve_result<Real> solve(const least_squares_view<Real>& batch, const solve_options& options,
                         solver_context& context);
template <class Real>
solve_result<Real> solve(const least_squares_view<Real>& batch, const solve_options& options);

extern template solve_result<float> solve(const least_squares_view<float>&, const solve_options&);
extern template solve_result<double> solve(const least_squares_view<double>&, const solve_options&);

/// True when this build of libgradflow contains the CUDA backend.
bool cuda_compiled();

/// Names of the CUDA devices that answer; empty without a driver or device (never throws).
std::vector<std::string> cuda_devices();

}  // namespace gradflow
