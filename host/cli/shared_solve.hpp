#pragma once
// A solve's batch shared among the ranks of an MPI job (README, "Clusters"): each rank solves the
// chunks of problems rank 0 hands it (share_chunks), and rank 0 joins the parts in problem order
// into the result one process gets, which it then writes as one process does.
#include <chrono>
#include <cstdint>
#include <string>
#include <type_traits>

#include "byte_stream.hpp"
#include "gradflow/least_squares.hpp"
#include "gradflow/objective.hpp"
#include "gradflow/result.hpp"
#include "mpi_job.hpp"

namespace gradflow::cli {

/// Problems [first, first + count) of `all`, as a view into the same data.
template <class Real>
least_squares_view<Real> problems_in(least_squares_view<Real> all, std::int64_t first,
                                     std::int64_t count) {
  all.batch_size = count;
  if (all.problem_index != nullptr) {
    all.problem_index += first;
  } else {
    all.matrix += first * all.matrix_stride;
    all.rhs += first * all.rhs_stride;
    all.problem_count = count;
  }
  if (all.lambda != nullptr) all.lambda += first * all.lambda_stride;
  if (all.initial != nullptr) all.initial += first * all.unknowns_per_problem();
  return all;
}

/// Problems [first, first + count) of an objective batch, copied (a functor and a start each).
template <class Objective, class Real>
objective_batch<Objective, Real> problems_in(const objective_batch<Objective, Real>& all,
                                             std::int64_t first, std::int64_t count) {
  objective_batch<Objective, Real> part;
  part.unknowns = all.unknowns;
  part.problems.assign(all.problems.begin() + first, all.problems.begin() + first + count);
  part.initial.assign(all.initial.begin() + first * all.unknowns,
                      all.initial.begin() + (first + count) * all.unknowns);
  return part;
}

/// Calls `visit` with the same per-problem vector of each of `results`, for every such vector, in
/// one order: what packing, unpacking and joining parts go through.
template <class Visit, class... Results>
void for_each_per_problem(Visit&& visit, Results&... results) {
  visit(results.solution...);
  visit(results.outcome...);
  visit(results.objective...);
  visit(results.gradient_norm...);
  visit(results.time...);
  visit(results.accepted_steps...);
  visit(results.rejected_steps...);
  visit(results.gradient_evaluations...);
  visit(results.surrogate_evaluations...);
}

/// The same for the summary's counts, which a joined summary adds up.
template <class Visit, class... Summaries>
void for_each_count(Visit&& visit, Summaries&... summaries) {
  visit(summaries.batch_size...);
  visit(summaries.status_counts...);
  visit(summaries.compute_seconds...);
  visit(summaries.gradient_evaluations...);
  visit(summaries.surrogate_evaluations...);
  visit(summaries.products_issued...);
  visit(summaries.compactions...);
}

/// Calls `visit` with every field of `result` that travels between ranks, in one order: what
/// packing and unpacking go through.
template <class Visit, class Result>
void for_each_field(Visit&& visit, Result& result) {
  visit(result.batch_size);
  visit(result.unknowns);
  visit(result.rhs_count);
  for_each_per_problem(visit, result);
  visit(result.trace);
  visit(result.summary.backend);
  visit(result.summary.device);
  visit(result.summary.path);
  visit(result.summary.wall_seconds);
  for_each_count(visit, result.summary);
}

template <class Real>
std::string packed(const solve_result<Real>& result) {
  byte_writer out;
  for_each_field([&](const auto& value) { out.put(value); }, result);
  return std::move(out.bytes());
}

template <class Real>
solve_result<Real> unpacked_solve(const std::string& bytes) {
  solve_result<Real> result;
  byte_reader in(bytes);
  for_each_field([&](auto& value) { in.take(value); }, result);
  return result;
}

/// Appends `part`, the result for problems [first, first + part.batch_size), to `whole`: its
/// per-problem values, its trace (renumbered to the batch's problems) and its counts.
template <class Real>
void append_part(solve_result<Real>& whole, const solve_result<Real>& part, std::int64_t first) {
  if (whole.batch_size == 0) {
    whole.unknowns = part.unknowns;
    whole.rhs_count = part.rhs_count;
    whole.summary.backend = part.summary.backend;
    whole.summary.device = part.summary.device;
    whole.summary.path = part.summary.path;
  }
  whole.batch_size += part.batch_size;
  for_each_per_problem(
      [](auto& into, const auto& from) { into.insert(into.end(), from.begin(), from.end()); },
      whole, part);
  for (trace_point point : part.trace) {
    point.problem += first;
    whole.trace.push_back(point);
  }
  for_each_count(
      [](auto& sum, const auto& term) {
        if constexpr (std::is_arithmetic_v<std::decay_t<decltype(sum)>>) {
          sum += term;
        } else {
          for (std::size_t s = 0; s < sum.size(); ++s) sum[s] += term[s];
        }
      },
      whole.summary, part.summary);
}

/// Every rank calls this once its setup is done: the batch of `batch_size` problems is handed out
/// in guided chunks, `solve_part(first, count)` solving each on the rank that has it. On rank 0 the
/// joined result (its wall time the run's; compute time and counts summed over the parts); on the
/// others an empty one.
template <class Real, class SolvePart>
solve_result<Real> solve_shared(std::int64_t batch_size, const SolvePart& solve_part) {
  bool reports = false;
  if (start_together(0, reports) != 0) throw reported_by_another_rank();
  const auto started = std::chrono::steady_clock::now();
  const int ranks = this_rank().ranks;
  solve_result<Real> whole;
  share_chunks(
      0, batch_size,
      [&](std::int64_t remaining) { return guided_chunk(remaining, batch_size, ranks); },
      [&](std::int64_t first, std::int64_t count) {
        computed_chunk done;
        done.rows = packed(solve_part(first, count));
        return done;
      },
      [&](const computed_chunk& done) {
        append_part(whole, unpacked_solve<Real>(done.rows), done.first);
      });
  whole.summary.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return whole;
}

}  // namespace gradflow::cli
