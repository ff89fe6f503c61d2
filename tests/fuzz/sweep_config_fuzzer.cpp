// libFuzzer target: a sweep config (JSON) and the axis specs in it must be accepted or rejected
// with gradflow::invalid_argument / io_error, never a crash or undefined behaviour — parsed and
// merged over the seed preset as `gradflow sweep --preset seed --config` does (deep nesting once
// overflowed the stack in the merge: tests/fuzz/corpus/sweep_config/regression_deep_nesting.json).
#include <cstddef>
#include <cstdint>
#include <string>

#include "gradflow/error.hpp"
#include "gradflow/options.hpp"
#include "gradflow/sweep.hpp"
#include "json_file.hpp"
#include "sweep_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto config = gradflow::cli::preset_config("seed");
    config.merge_patch(gradflow::cli::parse_json_text(
        std::string(reinterpret_cast<const char*>(data), size), "fuzz"));
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
