// Stand-alone timing of least squares' per-problem sums, scalar (dense_math.hpp) against the CPU's
// vector ones (host/least_squares_sums.cpp), 10⁵ seed-shaped problems, sizes unknown at compile
// time. g++ -std=c++17 -O3 -march=native -ffp-contract=off -fno-math-errno -fno-trapping-math
// -Iinclude
//   -Ibuild-cpu/include -Ihost sums_microbench.cpp host/least_squares_sums.cpp; taskset -c 0
//   ./a.out
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>
#include "gradflow/detail/dense_math.hpp"
#include "least_squares_sums.hpp"
using namespace gradflow::detail;
template <class Real>
void run(const char* name) {
  volatile int vm = 50, vn = 5, vk = 2;
  const int B = 100000, m = vm, n = vn, k = vk;
  std::vector<Real> A(size_t(B) * m * n), Bv(size_t(B) * m * k), U(size_t(B) * n * k),
      G(size_t(B) * n * n), C(size_t(B) * n * k), f(B);
  std::mt19937 g(1);
  std::uniform_real_distribution<Real> u(0, 1);
  for (auto& x : A) x = u(g);
  for (auto& x : Bv) x = u(g);
  for (auto& x : U) x = u(g);
  // Milliseconds to run `per_problem(a, b, u, g, c, i)` on every problem i.
  auto time_ms = [&](auto per_problem) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < B; ++i)
      per_problem(&A[size_t(i) * m * n], &Bv[size_t(i) * m * k], &U[size_t(i) * n * k],
                  &G[size_t(i) * n * n], &C[size_t(i) * n * k], i);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
  };
  auto sum_of_f = [&] {
    Real sum = 0;
    for (auto x : f) sum += x;
    return sum;
  };
  for (int rep = 0; rep < 5; ++rep) {
    const double scalar_f = time_ms([&](auto a, auto b, auto u, auto, auto, int i) {
      f[i] = least_squares_objective(a, b, Real(0), u, m, n, k);
    });
    const Real scalar_sum = sum_of_f();
    const double vector_f = time_ms([&](auto a, auto b, auto u, auto, auto, int i) {
      f[i] = least_squares_objective_on_cpu(a, b, Real(0), u, m, n, k);
    });
    const bool same = sum_of_f() == scalar_sum;
    const double scalar_gc = time_ms([&](auto a, auto b, auto, auto g, auto c, int) {
      normal_equations(a, b, Real(0), m, n, k, g, c);
    });
    const double vector_gc = time_ms([&](auto a, auto b, auto, auto g, auto c, int) {
      normal_equations_on_cpu(a, b, m, n, k, g, c);
    });
    std::printf(
        "%s objective scalar %.1f ms vector %.1f ms (same %d) | normal eq scalar %.1f ms vector "
        "%.1f ms\n",
        name, scalar_f, vector_f, same, scalar_gc, vector_gc);
  }
}
int main() {
  run<float>("f32");
  run<double>("f64");
}
