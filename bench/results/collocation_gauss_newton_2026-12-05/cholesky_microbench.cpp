// cholesky_factor at n = 562 (a 64-member collocation's Gauss–Newton size) and n = 128, 32: time
// and a checksum of the factor's bits.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>
#include "gradflow/detail/dense_math.hpp"
int main() {
  for (int n : {562, 128, 32}) {
    std::mt19937 gen(3);
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<double> a(2 * n * n), g(n * n, 0.0);
    for (auto& x : a) x = u(gen);
    for (int r = 0; r < n; ++r)
      for (int c = 0; c < n; ++c) {
        double s = 0;
        for (int k = 0; k < 2 * n; ++k) s += a[k * n + r] * a[k * n + c];
        g[r * n + c] = s;
      }
    std::vector<double> f;
    double best = 1e9;
    const int reps = n > 200 ? 20 : 2000;
    for (int t = 0; t < 5; ++t) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < reps; ++r) {
        f = g;
        gradflow::detail::cholesky_factor(f.data(), n);
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
      if (s < best) best = s;
    }
    unsigned long long h = 1469598103934665603ull;
    for (int c = 0; c < n; ++c)
      for (int r = c; r < n; ++r) {
        unsigned long long b;
        std::memcpy(&b, &f[r + c * n], 8);
        h = (h ^ b) * 1099511628211ull;
      }
    std::printf("n = %d: %.3f ms, %.2f GFLOP/s, bits %016llx\n", n, best * 1e3,
                double(n) * n * n / 3 / best * 1e-9, h);
  }
}
