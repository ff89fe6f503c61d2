#pragma once
// An array's shape as NumPy prints it — (2, 50, 5), and (3,) for one dimension — so that a message
// names the shape the user's NumPy reported.
#include <cstdint>
#include <string>
#include <vector>

namespace gradflow::detail {

inline std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "(";
  for (std::size_t d = 0; d < shape.size(); ++d) text += (d ? ", " : "") + std::to_string(shape[d]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace gradflow::detail
