// The input check's scan alone: A and B of 10⁵ seed problems (50×5 and 50×2), the early-exit
// std::isfinite loop the check was against all_finite (host/finite_values.hpp), fastest of 7.
// g++ -std=c++17 -O3 -march=native -I../../../host finite_microbench.cpp -o finite_microbench
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "finite_values.hpp"

template <class Real>
bool first_nonfinite_loop(const std::vector<Real>& values) {
  for (std::size_t e = 0; e < values.size(); ++e)
    if (!std::isfinite(values[e])) return false;
  return true;
}

template <class Real, class Check>
double fastest_ms(const std::vector<Real>& values, Check check) {
  double best = 1e30;
  for (int run = 0; run < 7; ++run) {
    const auto start = std::chrono::steady_clock::now();
    const bool finite = check(values);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!finite) std::printf("unexpected non-finite value\n");
    best = std::min(best, ms);
  }
  return best;
}

template <class Real>
void compare(const char* precision) {
  std::vector<Real> values(std::size_t(100000) * (50 * 5 + 50 * 2));
  for (std::size_t e = 0; e < values.size(); ++e) values[e] = Real(std::sin(double(e)));
  const double loop = fastest_ms(values, first_nonfinite_loop<Real>);
  const double vector = fastest_ms(values, [](const std::vector<Real>& v) {
    return gradflow::detail::all_finite(v.data(), v.size());
  });
  std::printf("%s: isfinite loop %.2f ms, all_finite %.2f ms, %.1fx\n", precision, loop, vector,
              loop / vector);
}

int main() {
  compare<float>("f32");
  compare<double>("f64");
}
