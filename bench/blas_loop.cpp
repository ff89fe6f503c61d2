#include "blas_loop.hpp"

#include <cblas.h>

#include <chrono>

namespace gradflow::bench {

std::vector<double> blas_euler_loop(const least_squares_batch<double>& batch, double dt,
                                    std::int64_t steps, double gtol, double& seconds) {
  const int m = batch.rows, n = batch.unknowns, k = batch.rhs_count;
  const std::int64_t count = batch.batch_size, len = batch.unknowns_per_problem();
  std::vector<double> gram(count * n * n), cross(count * len), product(count * len);
  std::vector<double> solution(count * len, 0.0);
  if (!batch.initial.empty()) solution = batch.initial;
  openblas_set_num_threads(1);  // the parallelism is over problems, as in the CPU backend
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < count; ++i) {
    const double* a = batch.matrix.data() + i * batch.matrix_stride();
    const double* b = batch.rhs.data() + i * batch.rhs_stride();
    double* g = gram.data() + i * n * n;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, m, 1.0, a, n, a, n, 0.0, g, n);
    for (int d = 0; d < n; ++d) g[d * n + d] += batch.lambda_of(i);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, k, m, 1.0, a, n, b, k, 0.0,
                cross.data() + i * len, k);
  }
  const auto start = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < count; ++i) {
    const double* g = gram.data() + i * n * n;
    const double* c = cross.data() + i * len;
    double* u = solution.data() + i * len;
    double* p = product.data() + i * len;
    for (std::int64_t step = 0; step < steps; ++step) {
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, k, n, 1.0, g, n, u, k, 0.0, p, k);
      cblas_daxpy(int(len), -1.0, c, 1, p, 1);         // ∇f = G·U − C
      if (cblas_dnrm2(int(len), p, 1) <= gtol) break;  // the same stopping test as gradflow's
      cblas_daxpy(int(len), -dt, p, 1, u, 1);
    }
  }
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return solution;
}

}  // namespace gradflow::bench
