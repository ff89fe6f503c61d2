#pragma once
// One least-squares problem's sums over the rows of A on the CPU, in vector registers: G = AᵀA and
// C = AᵀB before a solve, f at its answer after. Both are dense_math.hpp's functions bit for bit;
// the vectors take the rows' independent sums side by side.
namespace gradflow::detail {

/// normal_equations (λ = 0) bit for bit, a row of A at a time as vectors: each row of G and each
/// column of C gathers its sum in vector registers (n·k·m scalar updates through memory become
/// (n + k)·m vector ones). Above the widths it was written for (n > 4 registers' lanes, k > 16) it
/// is normal_equations itself.
template <class Real>
void normal_equations_on_cpu(const Real* matrix, const Real* rhs, int rows, int unknowns,
                             int rhs_count, Real* gram, Real* cross);

/// least_squares_objective bit for bit, a row's k residuals at once as one vector over the columns
/// of B. Above the widths it was written for (k > a register's lanes, n > 64) it is
/// least_squares_objective itself.
template <class Real>
Real least_squares_objective_on_cpu(const Real* matrix, const Real* rhs, Real lambda,
                                    const Real* point, int rows, int unknowns, int rhs_count);

}  // namespace gradflow::detail
