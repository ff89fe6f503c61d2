#include "gradflow/collocation.hpp"

#include <cmath>
#include <string>

#include "gradflow/error.hpp"
#include "number_text.hpp"

namespace gradflow {

std::vector<double> chebyshev_points(int count, double first, double last) {
  if (count < 2)
    throw invalid_argument("invalid count = " + std::to_string(count) + ": must be >= 2");
  if (!(std::isfinite(first) && std::isfinite(last) && first < last))
    throw invalid_argument("invalid interval [" + detail::number_text(first) + ", " +
                           detail::number_text(last) + "]: must be finite with first < last");
  const double pi = std::acos(-1.0);
  const double middle = (first + last) / 2, half = (last - first) / 2;
  std::vector<double> points(count);
  for (int j = 0; j < count; ++j) points[j] = middle - half * std::cos(j * pi / (count - 1));
  points.front() = first;  // exact ends, not cos(0) and cos(π) rounded
  points.back() = last;
  return points;
}

std::vector<double> differentiation_matrix(const std::vector<double>& nodes) {
  const int n = int(nodes.size());
  if (n < 2) throw invalid_argument("differentiation_matrix needs at least two nodes");
  std::vector<double> weight(n);
  for (int j = 0; j < n; ++j)
    weight[j] = (j % 2 == 0 ? 1.0 : -1.0) * (j == 0 || j == n - 1 ? 0.5 : 1.0);
  std::vector<double> matrix(std::size_t(n) * n, 0.0);
  for (int i = 0; i < n; ++i) {
    double diagonal = 0;
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      const double gap = nodes[i] - nodes[j];
      if (gap == 0)
        throw invalid_argument("differentiation_matrix: nodes " + std::to_string(i) + " and " +
                               std::to_string(j) + " coincide");
      const double entry = (weight[j] / weight[i]) / gap;
      matrix[std::size_t(i) * n + j] = entry;
      diagonal -= entry;
    }
    // The negative sum, not the closed form: rows sum to zero, which keeps rounding small.
    matrix[std::size_t(i) * n + i] = diagonal;
  }
  return matrix;
}

}  // namespace gradflow
