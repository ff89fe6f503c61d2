// One collocation member's Gauss–Newton matrix at the seed study's size (N = 200 nodes, d = 2,
// NN [2, 32, 2]: 560 unknowns) and its Cholesky factor: best of five loops, and a checksum of
// the matrix's and the factor's bits. n is read through a volatile (since the
// shared_add_terms_2026-12-05 record): with n a compile-time constant GCC 12 compiled b19c1b9's
// factor loop into a form (reversed, permuted loads) that the library, with n known only at run
// time, never gets.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>
#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/neural_ode_objective.hpp"
using namespace gradflow::detail;
static unsigned long long bits(const std::vector<double>& v) {
  unsigned long long h = 1469598103934665603ull;
  for (double x : v) {
    unsigned long long b;
    std::memcpy(&b, &x, 8);
    h = (h ^ b) * 1099511628211ull;
  }
  return h;
}
int main() {
  const int nodes = 200, d = 2, hidden = 32;
  std::mt19937 gen(5);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> times(nodes), obs(nodes * d), diff(nodes * nodes), gram((nodes - 1) * (nodes - 1), 0.0);
  for (int i = 0; i < nodes; ++i) times[i] = 15.0 * i / (nodes - 1);
  for (auto& x : obs) x = u(gen);
  for (auto& x : diff) x = u(gen) * 10;
  for (int i = 1; i < nodes; ++i)
    for (int j = 1; j < nodes; ++j)
      for (int k = 1; k < nodes; ++k) gram[(j - 1) * (nodes - 1) + k - 1] += diff[i * nodes + j] * diff[i * nodes + k];
  std::vector<double> scratch(collocation_scratch(nodes, d, hidden));
  neural_ode_member<double> m;
  m.nodes = nodes; m.times = times.data(); m.observations = obs.data(); m.differentiation = diff.data();
  m.differentiation_gram = gram.data(); m.weight_decay = 1e-3; m.rho = 100; m.scratch = scratch.data();
  const collocation_objective<double> objective{m, d, hidden};
  volatile int opaque_n = collocation_unknowns(nodes, d, hidden);  // as the library sees n
  const int n = opaque_n;
  std::vector<double> z(n), matrix(std::size_t(n) * n), factor;
  for (auto& x : z) x = u(gen) * 0.5;
  double best_matrix = 1e9, best_factor = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < 10; ++k) objective.gauss_newton(z.data(), matrix.data());
    auto t1 = std::chrono::steady_clock::now();
    for (int k = 0; k < 10; ++k) {
      factor = matrix;
      for (int e = 0; e < n; ++e) factor[e * n + e] += 1;  // H + I/h, h = 1
      cholesky_factor(factor.data(), n);
    }
    auto t2 = std::chrono::steady_clock::now();
    best_matrix = std::min(best_matrix, std::chrono::duration<double>(t1 - t0).count() / 10);
    best_factor = std::min(best_factor, std::chrono::duration<double>(t2 - t1).count() / 10);
  }
  std::printf("n = %d: Gauss-Newton matrix %.2f ms (bits %016llx), factor %.2f ms (bits %016llx)\n", n,
              best_matrix * 1e3, bits(matrix), best_factor * 1e3, bits(factor));
}
