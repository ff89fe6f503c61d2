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
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < B; ++i)
      f[i] = least_squares_objective(&A[size_t(i) * m * n], &Bv[size_t(i) * m * k], Real(0),
                                     &U[size_t(i) * n * k], m, n, k);
    auto t1 = std::chrono::steady_clock::now();
    Real s0 = 0;
    for (auto x : f) s0 += x;
    for (int i = 0; i < B; ++i)
      f[i] = least_squares_objective_on_cpu(&A[size_t(i) * m * n], &Bv[size_t(i) * m * k], Real(0),
                                            &U[size_t(i) * n * k], m, n, k);
    auto t2 = std::chrono::steady_clock::now();
    Real s1 = 0;
    for (auto x : f) s1 += x;
    for (int i = 0; i < B; ++i)
      normal_equations(&A[size_t(i) * m * n], &Bv[size_t(i) * m * k], Real(0), m, n, k,
                       &G[size_t(i) * n * n], &C[size_t(i) * n * k]);
    auto t3 = std::chrono::steady_clock::now();
    for (int i = 0; i < B; ++i)
      normal_equations_on_cpu(&A[size_t(i) * m * n], &Bv[size_t(i) * m * k], m, n, k,
                              &G[size_t(i) * n * n], &C[size_t(i) * n * k]);
    auto t4 = std::chrono::steady_clock::now();
    auto ms = [](auto a, auto b) {
      return std::chrono::duration<double, std::milli>(b - a).count();
    };
    std::printf(
        "%s objective scalar %.1f ms vector %.1f ms (same %d) | normal eq scalar %.1f ms vector "
        "%.1f ms\n",
        name, ms(t0, t1), ms(t1, t2), s0 == s1, ms(t2, t3), ms(t3, t4));
  }
}
int main() {
  run<float>("f32");
  run<double>("f64");
}
