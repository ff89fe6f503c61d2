#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "gradflow/error.hpp"

namespace gradflow::cli {

/// The deepest nesting gradflow's JSON files have is a few levels (a sweep config: object, axes,
/// value list; a journal: settings, axes, values); deeper input is refused before it is parsed, so
/// recursive JSON operations (merge, comparison, output) cannot exhaust the stack.
inline constexpr int max_json_depth = 16;
/// Config files and journals are small; reading stops here (a device such as /dev/zero never ends).
inline constexpr std::size_t max_json_bytes = std::size_t(16) << 20;

/// Parses `text` (from `source`, named in errors); invalid_argument for malformed or too deeply
/// nested JSON.
nlohmann::json parse_json_text(const std::string& text, const std::string& source);

/// Reads and parses the JSON file at `path`, which `option` names: io_error for a missing,
/// unreadable or oversized file or a directory, invalid_argument for bad JSON.
nlohmann::json read_json_file(const std::string& path, const std::string& option);

/// `value` as an `Integer`, or invalid_argument naming `what` when it is not a JSON integer in
/// [lowest, highest]: nlohmann's get<Integer> converts 1e300, 1.5 or 2⁶³ with undefined behaviour
/// or a silent wrap.
template <class Integer, class Json>
Integer json_integer(const Json& value, const std::string& what,
                     Integer lowest = std::numeric_limits<Integer>::lowest(),
                     Integer highest = std::numeric_limits<Integer>::max()) {
  static_assert(std::is_integral_v<Integer>);
  const auto less = [](auto a, auto b) {  // a < b whatever the signedness (C++20's cmp_less)
    using A = decltype(a);
    using B = decltype(b);
    if constexpr (std::is_signed_v<A> == std::is_signed_v<B>)
      return a < b;
    else if constexpr (std::is_signed_v<A>)
      return a < 0 || std::make_unsigned_t<A>(a) < b;
    else
      return b >= 0 && a < std::make_unsigned_t<B>(b);
  };
  const auto within = [&](auto number) { return !less(number, lowest) && !less(highest, number); };
  if (value.is_number_unsigned()) {
    const auto number = value.template get<std::uint64_t>();
    if (within(number)) return Integer(number);
  } else if (value.is_number_integer()) {
    const auto number = value.template get<std::int64_t>();
    if (within(number)) return Integer(number);
  }
  const bool bounded_below =
      std::is_unsigned_v<Integer> || lowest != std::numeric_limits<Integer>::lowest();
  const bool bounded_above = highest != std::numeric_limits<Integer>::max();
  throw invalid_argument(
      what + " = " + value.dump() + ": must be an integer" +
      (bounded_above ? " in [" + std::to_string(lowest) + ", " + std::to_string(highest) + "]"
       : bounded_below ? " >= " + std::to_string(lowest)
                       : std::string()));
}

}  // namespace gradflow::cli
