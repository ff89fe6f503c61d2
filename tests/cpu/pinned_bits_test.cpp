// Pins the exact bits of a few members' answers for every method and dynamics on the CPU, so that a
// restructuring that must not change the arithmetic (one driver, one method table) proves it did
// not. A change that is meant to alter results updates the table: GRADFLOW_PRINT_PINS=1 prints it.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "gradflow/detail/multiply_add.hpp"
#include "gradflow/gradflow.hpp"
#include "gradflow/mgh.hpp"

namespace gradflow {
namespace {

/// FNV-1a (64 bits) over the bytes of every per-problem result.
class bit_hash {
public:
  template <class T>
  void add(const std::vector<T>& values) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
    for (std::size_t b = 0; b < values.size() * sizeof(T); ++b)
      value_ = (value_ ^ bytes[b]) * prime;
  }
  std::uint64_t value() const { return value_; }

private:
  static constexpr std::uint64_t prime = 1099511628211ull;
  std::uint64_t value_ = 14695981039346656037ull;
};

template <class Real>
std::uint64_t hash_of(const solve_result<Real>& result) {
  bit_hash hash;
  hash.add(result.solution);
  hash.add(result.objective);
  hash.add(result.gradient_norm);
  hash.add(result.time);
  hash.add(result.outcome);
  hash.add(result.accepted_steps);
  hash.add(result.rejected_steps);
  hash.add(result.gradient_evaluations);
  return hash.value();
}

struct pinned_case {
  const char* name;
  method m;
  dynamics d;
  void (*adjust)(solve_options&) = nullptr;  ///< settings beyond the method's defaults
};

/// lgf's other fits: the strong target of order 4, the quadratic library, STLSQ; and the weak one.
void strong_quadratic_stlsq(solve_options& o) {
  o.lgf_record = 12.0;
  o.lgf_window = 30.0;
  o.lgf_target = 1.0;
  o.lgf_order = 4.0;
  o.lgf_degree = 2.0;
  o.lgf_threshold = 1e-3;
}
void weak(solve_options& o) {
  o.lgf_record = 12.0;
  o.lgf_window = 30.0;
  o.lgf_target = 2.0;
}

constexpr pinned_case cases[] = {
    {"euler", method::euler, dynamics::gradient},
    {"rk4", method::rk4, dynamics::gradient},
    {"bs3", method::bs3, dynamics::gradient},
    {"tsit5", method::tsit5, dynamics::gradient},
    {"dp5", method::dp5, dynamics::gradient},
    {"linearly_implicit", method::linearly_implicit, dynamics::gradient},
    {"rkcd", method::rkcd, dynamics::gradient},
    {"rkc", method::rkc, dynamics::gradient},
    {"tsit5_heavy_ball", method::tsit5, dynamics::heavy_ball},
    {"rk4_nesterov", method::rk4, dynamics::nesterov},
    {"tsit5_newton", method::tsit5, dynamics::newton},
    {"gd", method::gd, dynamics::gradient},
    {"momentum", method::momentum, dynamics::gradient},
    {"nag", method::nag, dynamics::gradient},
    {"adam", method::adam, dynamics::gradient},
    {"fire", method::fire, dynamics::gradient},
    {"fire2", method::fire2, dynamics::gradient},
    {"lbfgs", method::lbfgs, dynamics::gradient},
    {"cg", method::cg, dynamics::gradient},
    {"direct", method::direct, dynamics::gradient},
    {"lgf", method::lgf, dynamics::gradient},
    {"lgf_adam", method::lgf_adam, dynamics::gradient},
    {"lgf_newton", method::lgf, dynamics::newton},
    {"lgf_implicit", method::lgf_implicit, dynamics::gradient},
    {"lgf_strong_quadratic_stlsq", method::lgf, dynamics::gradient, strong_quadratic_stlsq},
    {"lgf_weak", method::lgf, dynamics::gradient, weak},
};

/// The hashes since the step's sums fused their multiply–adds (multiply_add) and the PI controller
/// multiplied h by 1/q: the bits of a target with a fused multiply–add instruction.
const std::map<std::string, std::uint64_t>& pins() {
  static const std::map<std::string, std::uint64_t> table = {
#include "pinned_bits.inc"
  };
  return table;
}

void check(const std::string& name, std::uint64_t hash) {
  if (!GRADFLOW_FUSED_MULTIPLY_ADD)
    GTEST_SKIP() << "the pins are a fused multiply–add target's bits; this one rounds twice";
  if (std::getenv("GRADFLOW_PRINT_PINS")) {
    std::printf("    {\"%s\", 0x%016llxull},\n", name.c_str(),
                static_cast<unsigned long long>(hash));
    return;
  }
  const auto pinned = pins().find(name);
  ASSERT_NE(pinned, pins().end()) << name << " has no pin (GRADFLOW_PRINT_PINS=1 prints them)";
  EXPECT_EQ(hash, pinned->second) << name << ": the CPU results' bits changed";
}

TEST(PinnedBits, LeastSquaresEveryMethodAndDynamicsOnBothPaths) {
  random_spec spec;
  spec.batch_size = 3;
  spec.seed = 11;
  spec.random_initial = true;
  const auto batch = random_least_squares<double>(spec);
  for (const auto& c : cases) {
    for (execution_path path : {execution_path::lockstep, execution_path::fused}) {
      solve_options options;
      options.backend = backend_kind::cpu;
      options.method = c.m;
      options.dynamics = c.d;
      options.path = path;
      options.max_steps = 3000;
      options.gtol = 1e-9;
      if (c.m == method::rk4 || c.m == method::euler) options.dt = 0.01;
      if (c.adjust) c.adjust(options);
      // The fused and lockstep paths are bit-identical (Outcome tests): one pin for both.
      check(c.name, hash_of(solve(batch, options)));
    }
  }
}

TEST(PinnedBits, ObjectivesOfTheMghSet) {
  // Extended Rosenbrock at n = 4 from x0 and from x0 + 0.1: tsit5, linearly implicit, FIRE.
  const auto info = mgh::sized(mgh::problem::extended_rosenbrock, 4);
  objective_batch<mgh::objective, double> batch;
  batch.unknowns = info.function.unknowns;
  batch.problems = {info.function, info.function};
  batch.initial = info.start;
  for (double x : info.start) batch.initial.push_back(x + 0.1);
  for (const auto& c : {cases[3], cases[5], cases[15]}) {
    for (execution_path path : {execution_path::fused, execution_path::lockstep}) {
      solve_options options;
      options.backend = backend_kind::cpu;
      options.method = c.m;
      options.path = path;
      options.max_steps = 3000;
      options.gtol = 1e-9;
      if (c.m != method::tsit5) options.dt = c.m == method::fire ? 1e-3 : 1e-2;
      // Objectives ran fused only when these were pinned; the lockstep path must match them.
      check(std::string("mgh_") + c.name, hash_of(mgh::solve(batch, options)));
    }
  }
}

}  // namespace
}  // namespace gradflow
