#include <chrono>
#include <vector>

#include "gradflow/detail/run_plan.hpp"
#include "gradflow/detail/sequence.hpp"
#include "gradflow/error.hpp"
#include "gradflow/solve.hpp"
#include "gradflow/solver_context.hpp"

namespace gradflow::detail {
namespace {

/// The trace (solve_options::trace_every): every `every` iterations a point (accepted steps, t,
/// ‖∇f‖) for each running problem, then each problem's end. Optimisers that evaluate ∇f at the
/// point an iteration starts from and then move (all but cg and L-BFGS) hold after the iteration
/// that point's ‖∇f‖, not the new one's: their point takes steps and t read before the iteration
/// and ‖∇f‖ read after it. The other methods' ‖∇f‖ is that of the point they hold.
template <class Real>
class trace_recorder {
public:
  trace_recorder(engine<Real>& engine, int every, bool evaluates_before_moving,
                 std::vector<trace_point>& trace)
      : engine_(engine),
        every_(every),
        evaluates_before_moving_(evaluates_before_moving),
        trace_(trace) {}

  void before_step(std::int64_t iteration) {
    if (!due(iteration)) return;
    read(before_);
    if (!evaluates_before_moving_) add_points(before_, before_);
  }

  void after_step(std::int64_t iteration) {
    if (!evaluates_before_moving_ || !due(iteration)) return;
    read(after_);
    add_points(before_, after_);
  }

  /// Each problem's end (its ‖∇f‖ the answer's), unless its last point is that already.
  void finish() {
    if (every_ <= 0) return;
    read(after_);
    for (std::size_t i = 0; i < after_.outcome.size(); ++i)
      if (last_step_[i] != after_.accepted[i])
        add_point(i, after_.accepted[i], after_.time[i], after_.gradient_norm[i]);
  }

private:
  struct progress {
    std::vector<std::int32_t> outcome;
    std::vector<std::int64_t> accepted;
    std::vector<Real> time, gradient_norm;
  };

  bool due(std::int64_t iteration) const { return every_ > 0 && iteration % every_ == 0; }

  void read(progress& p) {
    engine_.read_progress(p.outcome, p.accepted, p.time, p.gradient_norm);
    if (last_step_.empty()) last_step_.assign(p.outcome.size(), -1);
  }

  /// A point for each problem running at `at`: its steps and t, and ‖∇f‖ from `norms`.
  void add_points(const progress& at, const progress& norms) {
    for (std::size_t i = 0; i < at.outcome.size(); ++i)
      if (at.outcome[i] == static_cast<std::int32_t>(status::running))
        add_point(i, at.accepted[i], at.time[i], norms.gradient_norm[i]);
  }

  void add_point(std::size_t i, std::int64_t step, Real time, Real gradient_norm) {
    trace_.push_back({std::int64_t(i), step, double(time), double(gradient_norm)});
    last_step_[i] = step;
  }

  engine<Real>& engine_;
  int every_;
  bool evaluates_before_moving_;
  std::vector<trace_point>& trace_;
  progress before_, after_;
  std::vector<std::int64_t> last_step_;  ///< each problem's last point's steps; −1: none yet
};

/// One call of a step's body, as run_sequence issues it.
struct step_call {
  enum class kind { evaluate, curvature_product, phase } what;
  operand source;
  lockstep_phase phase;
  int stage;
};

/// Applies each step of run_sequence to the active problems — the model's evaluations, the
/// engine's phases and factorisations — checking how many still run every options.check_interval
/// steps (reporting it to on_progress, compacting the active set when few still run) and
/// recording the trace.
/// A step's body is the same calls every step while the active set stays: where the model and the
/// method allow (model_traits::step_capture, no factorisation inside a step) the first step after
/// each change records them — on the GPU the engine captures them as a CUDA graph and launches it,
/// on the CPU they run as issued — and later steps replay the record (the graph; the CPU issues
/// the recorded calls again, so this logic runs, and is tested, there too).
template <class Real>
class lockstep_executor {
public:
  lockstep_executor(problem_model<Real>& model, engine<Real>& engine,
                    const step_settings<Real>& settings, const solve_options& options,
                    trace_recorder<Real>& recorder)
      : model_(model),
        engine_(engine),
        settings_(settings),
        options_(options),
        recorder_(recorder),
        started_(std::chrono::steady_clock::now()),
        replays_steps_(model.traits().step_capture && !settings.linearly_implicit &&
                       settings.method != method::lgf_implicit) {}

  void factorize(factor_shift shift) {
    model_.prepare_curvature(engine_, shift);
    engine_.factorize(shift);
  }
  void evaluate(operand source) { take({step_call::kind::evaluate, source, {}, 0}); }
  void curvature_product(operand source) {
    take({step_call::kind::curvature_product, source, {}, 0});
  }
  void phase(lockstep_phase p, int stage) { take({step_call::kind::phase, {}, p, stage}); }
  bool keep_going(std::int64_t iteration) {
    if (!still_running(iteration)) return false;
    if (replays_steps_) start_step();
    return true;
  }
  void after_step(std::int64_t iteration) {
    finish_step();
    recorder_.after_step(iteration);
  }
  void end_iterations() { engine_.activate_all(); }
  int stage_limit() { return engine_.most_stages(); }
  std::int64_t compactions() const { return compactions_; }
  std::int64_t evaluations() const { return evaluations_; }

private:
  enum class step_mode { issue, record, replay };

  bool still_running(std::int64_t iteration) {
    recorder_.before_step(iteration);
    if (iteration % options_.check_interval != 0) return true;
    if (options_.should_stop && options_.should_stop())
      throw interrupted("the solve was interrupted");
    const std::int64_t running = engine_.running_count();
    const std::int64_t active = engine_.active().count;
    if (running > 0 && running < active &&
        double(running) <= options_.compaction_threshold * double(active)) {
      engine_.compact(running);
      ++compactions_;
    }
    if (options_.on_progress) {
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
      options_.on_progress({running, model_.batch_size() - running, elapsed.count()});
    }
    return running > 0;
  }

  /// Replays the record while the active set is the one it was made on (each compaction leaves
  /// fewer problems, so the list and its count name one set); records anew otherwise.
  void start_step() {
    const active_set now = engine_.active();
    if (!record_.empty() && now.list == recorded_on_.list && now.count == recorded_on_.count) {
      mode_ = step_mode::replay;
      return;
    }
    record_.clear();
    recorded_on_ = now;
    step_evaluations_ = 0;
    captured_ = engine_.begin_step_capture();
    mode_ = step_mode::record;
  }

  void finish_step() {
    if (mode_ == step_mode::record && captured_) {
      engine_.end_step_capture();
      engine_.replay_step();  // captured work has not run yet
    } else if (mode_ == step_mode::replay) {
      if (captured_) {
        engine_.replay_step();
        evaluations_ += step_evaluations_;
      } else {
        for (const step_call& call : record_) evaluations_ += issue(call);
      }
    }
    mode_ = step_mode::issue;
  }

  void take(const step_call& call) {
    if (mode_ == step_mode::replay) return;
    const std::int64_t evaluations = issue(call);
    evaluations_ += evaluations;
    if (mode_ != step_mode::record) return;
    record_.push_back(call);
    step_evaluations_ += evaluations;
  }

  std::int64_t issue(const step_call& call) {
    switch (call.what) {
      case step_call::kind::evaluate:
        return model_.evaluate(engine_, call.source);
      case step_call::kind::curvature_product:
        return model_.curvature_product(engine_, call.source);
      case step_call::kind::phase:
        engine_.run_phase(settings_, call.phase, call.stage);
        return 0;
    }
    return 0;
  }

  problem_model<Real>& model_;
  engine<Real>& engine_;
  const step_settings<Real>& settings_;
  const solve_options& options_;
  trace_recorder<Real>& recorder_;
  std::chrono::steady_clock::time_point started_;
  std::int64_t compactions_ = 0;
  std::int64_t evaluations_ = 0;
  const bool replays_steps_;
  step_mode mode_ = step_mode::issue;
  std::vector<step_call> record_;
  active_set recorded_on_;
  bool captured_ = false;  ///< the engine captured the record (a CUDA graph)
  std::int64_t step_evaluations_ = 0;
};

}  // namespace

template <class Real>
solve_result<Real> solve_model(problem_model<Real>& model, engine<Real>& engine,
                               const solve_options& options) {
  const std::int64_t count = model.batch_size();
  const auto plan = plan_run<Real>(options, count, model.unknowns(), model.traits(), engine.kind());
  const auto& settings = plan.settings;
  const auto start = std::chrono::steady_clock::now();
  engine.allocate(count, model.unknowns(), model.rhs_count(), plan.layout, plan.parameters,
                  model.evaluation_work());
  model.load(engine, plan.layout.needs_factor);

  solve_result<Real> result;
  run_summary& summary = result.summary;
  engine.start_clock();
  if (plan.fused) {
    summary.products_issued = model.run_fused(engine, settings, options.should_stop);
  } else {
    const bool evaluates_before_moving =
        settings.kind == method_kind::optimizer && !settings.starts_from_gradient();
    trace_recorder<Real> recorder(engine, options.trace_every, evaluates_before_moving,
                                  result.trace);
    lockstep_executor<Real> executor(model, engine, settings, options, recorder);
    run_sequence(executor, settings);
    recorder.finish();
    summary.products_issued = executor.evaluations();
    summary.compactions = executor.compactions();
  }
  summary.compute_seconds = engine.stop_clock();
  result.batch_size = count;
  result.unknowns = model.unknowns();
  result.rhs_count = model.rhs_count();
  engine.download(result);
  model.objective(engine, result.objective);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

  summary.backend = engine.kind();
  summary.device = engine.device_name();
  summary.batch_size = count;
  summary.path = plan.fused ? execution_path::fused : execution_path::lockstep;
  summary.wall_seconds = elapsed.count();
  finish_outcomes(result);
  return result;
}

template solve_result<float> solve_model(problem_model<float>&, engine<float>&,
                                         const solve_options&);
template solve_result<double> solve_model(problem_model<double>&, engine<double>&,
                                          const solve_options&);

}  // namespace gradflow::detail

namespace gradflow {

backend_kind solver_context::resolve(backend_kind requested, bool model_on_cuda,
                                     const std::string& why_not_cuda) {
  switch (requested) {
    case backend_kind::cpu:
      return backend_kind::cpu;
    case backend_kind::cuda:
      if (!model_on_cuda) throw not_compiled(why_not_cuda);
      if (!cuda_compiled())
        throw not_compiled(
            "backend cuda requested but this libgradflow was built without CUDA (no nvcc at "
            "configure time)");
      if (cuda_device_count() == 0)
        throw no_device("backend cuda requested but no CUDA device answers (no driver or no GPU)");
      return backend_kind::cuda;
    case backend_kind::automatic:
      break;
  }
  return model_on_cuda && cuda_device_count() > 0 ? backend_kind::cuda : backend_kind::cpu;
}

}  // namespace gradflow
