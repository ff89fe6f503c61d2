#pragma once
// G = AᵀA and C = AᵀB of one least-squares problem on the CPU, in vector registers.
namespace gradflow::detail {

/// normal_equations (dense_math.hpp, λ = 0) bit for bit, a row of A at a time as vectors: each row
/// of G and each column of C gathers its sum in vector registers (n·k·m scalar updates through
/// memory become (n + k)·m vector ones). Above the widths it was written for (n > 4 registers'
/// lanes, k > 16) it is normal_equations itself.
template <class Real>
void normal_equations_on_cpu(const Real* matrix, const Real* rhs, int rows, int unknowns,
                             int rhs_count, Real* gram, Real* cross);

}  // namespace gradflow::detail
