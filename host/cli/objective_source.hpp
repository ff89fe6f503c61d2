#pragma once
#include <cstdint>
#include <string>
#include <variant>

#include "gradflow/heat_inverse.hpp"
#include "gradflow/mgh.hpp"

namespace gradflow::cli {

/// The built-in objectives `--problem` names, one family per batch: the Moré–Garbow–Hillstrom set
/// (gradflow/mgh.hpp) or the heat inverse problem (gradflow/heat_inverse.hpp); double precision.
using objective_problems = std::variant<objective_batch<mgh::objective, double>,
                                        objective_batch<heat_inverse<double>, double>>;

/// `spec`: comma-separated "mgh:NAME[:n]" (n: the size, for the problems of variable size; left
/// out, the set's own) or "heat", all of one family and one size; each problem at its standard
/// start. Throws invalid_argument naming --problem and the item.
objective_problems load_objectives(const std::string& spec);

/// Every start x0 becomes scale · x0 + offset (in every coordinate); throws invalid_argument
/// naming the field when either is not finite.
void move_starts(objective_problems& problems, double scale, double offset);

std::int64_t problem_count(const objective_problems& problems);
int unknowns_of(const objective_problems& problems);

}  // namespace gradflow::cli
