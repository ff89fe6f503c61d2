#pragma once
// Collocation on one global Chebyshev interval, the discretisation of the simultaneous
// (fully discretised) training of neural ODEs (Tsay & Shapovalova, DYCOPS 2025): the node states Y
// satisfy (D Y)_i = f(Y_i) with D the differentiation matrix of the polynomial through them.
#include <vector>

namespace gradflow {

/// `count` Chebyshev points of the second kind on [first, last], increasing:
/// t_j = (first + last)/2 − (last − first)/2 · cos(jπ/(count − 1)), j = 0 … count − 1 (count ≥ 2).
std::vector<double> chebyshev_points(int count, double first, double last);

/// The barycentric differentiation matrix (Berrut & Trefethen, SIAM Review 46, 2004) on distinct
/// `nodes`, row-major N×N: D_ij = (w_j/w_i)/(t_i − t_j) for i ≠ j and D_ii = −Σ_{j≠i} D_ij, with
/// the Chebyshev weights w_j = (−1)^j, halved at both ends (exact for Chebyshev points of the
/// second kind in any interval). (D y)_i is the derivative at t_i of the polynomial of degree < N
/// through (t_j, y_j). Throws invalid_argument for fewer than two nodes or repeated ones.
std::vector<double> differentiation_matrix(const std::vector<double>& nodes);

}  // namespace gradflow
