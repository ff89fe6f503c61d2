// libFuzzer target: a sweep config (JSON) and the axis specs in it must be accepted or rejected
// with gradflow::invalid_argument / io_error, never a crash or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <string>

#include "gradflow/error.hpp"
#include "gradflow/options.hpp"
#include "gradflow/sweep.hpp"
#include "sweep_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto config = nlohmann::json::parse(data, data + size, nullptr, false);
  if (config.is_discarded()) return 0;
  try {
    gradflow::cli::sweep_arguments arguments;
    gradflow::cli::apply_config(
        config, "fuzz", [](const std::string&) { return false; }, arguments);
    for (const auto& [name, spec] : arguments.axes) gradflow::parse_axis(name, spec);
    gradflow::parse_method(arguments.solver.method.substr(0, arguments.solver.method.find(',')));
    gradflow::parse_dynamics(arguments.solver.dynamics);
  } catch (const gradflow::error&) {
  }
  return 0;
}
