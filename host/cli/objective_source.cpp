#include "objective_source.hpp"

#include <cmath>
#include <vector>

#include "../number_text.hpp"
#include "gradflow/error.hpp"
#include "split_list.hpp"

namespace gradflow::cli {
namespace {

std::string invalid(const std::string& spec, const std::string& item, const std::string& why) {
  return "invalid --problem '" + spec + "': '" + item + "' " + why;
}

/// "n" of "mgh:NAME:n", or 0 when the item has no size.
int size_of(const std::string& spec, const std::string& item,
            const std::vector<std::string>& parts) {
  if (parts.size() == 2) return 0;
  const std::string& text = parts[2];
  const bool digits = !text.empty() && text.size() <= 9 &&  // the range is the problem's to judge
                      text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoi(text) < 1)
    throw invalid_argument(
        invalid(spec, item, "has size '" + text + "': expected an integer >= 1"));
  return std::stoi(text);
}

template <class Objective>
void append(objective_batch<Objective, double>& batch, const Objective& problem,
            const std::vector<double>& start) {
  batch.problems.push_back(problem);
  batch.initial.insert(batch.initial.end(), start.begin(), start.end());
}

}  // namespace

objective_problems load_objectives(const std::string& spec) {
  objective_batch<mgh::objective, double> set;
  objective_batch<heat_inverse<double>, double> heat;
  for (const std::string& item : split_list(spec, ',')) {
    const std::vector<std::string> parts = split_list(item, ':');
    if (item == "heat") {
      heat.unknowns = 2;
      append(heat, heat_inverse<double>{},
             {heat_inverse<double>::start_left, heat_inverse<double>::start_right});
      continue;
    }
    if (parts.empty() || parts[0] != "mgh" || parts.size() < 2 || parts.size() > 3)
      throw invalid_argument(invalid(spec, item, "is not mgh:NAME[:n] or heat"));
    const int size = size_of(spec, item, parts);
    mgh::problem_info info;
    try {
      info = mgh::named(parts[1], size);
    } catch (const invalid_argument& e) {
      throw invalid_argument(invalid(spec, item, std::string("names no problem: ") + e.what()));
    }
    if (set.unknowns != 0 && info.function.unknowns != set.unknowns)
      throw invalid_argument(invalid(spec, item,
                                     "has " + std::to_string(info.function.unknowns) +
                                         " unknowns where the batch has " +
                                         std::to_string(set.unknowns) + ": one size per batch"));
    set.unknowns = info.function.unknowns;
    append(set, info.function, info.start);
  }
  if (!set.problems.empty() && !heat.problems.empty())
    throw invalid_argument("invalid --problem '" + spec +
                           "': MGH problems and heat in one batch; run them separately");
  if (set.problems.empty() && heat.problems.empty())
    throw invalid_argument("invalid --problem '" + spec + "': no problem named");
  if (!heat.problems.empty()) return heat;
  return set;
}

void move_starts(objective_problems& problems, double scale, double offset) {
  if (!std::isfinite(scale))
    throw invalid_argument("invalid x0_scale = " + detail::number_text(scale) + ": must be finite");
  if (!std::isfinite(offset))
    throw invalid_argument("invalid x0_offset = " + detail::number_text(offset) +
                           ": must be finite");
  std::visit(
      [&](auto& batch) {
        for (double& x : batch.initial) x = scale * x + offset;
      },
      problems);
}

std::int64_t problem_count(const objective_problems& problems) {
  return std::visit([](const auto& batch) { return batch.batch_size(); }, problems);
}

int unknowns_of(const objective_problems& problems) {
  return std::visit([](const auto& batch) { return batch.unknowns; }, problems);
}

}  // namespace gradflow::cli
