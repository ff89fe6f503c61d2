#pragma once
#include <string>
#include <vector>

namespace gradflow::cli {

/// The items between separators, empty ones kept ("a,,b," → a, "", b, ""), so that a list with a
/// stray separator is refused by the caller instead of silently shortened.
inline std::vector<std::string> split_list(const std::string& text, char separator) {
  std::vector<std::string> items;
  for (std::size_t begin = 0;;) {
    const std::size_t end = text.find(separator, begin);
    items.push_back(text.substr(begin, end - begin));
    if (end == std::string::npos) return items;
    begin = end + 1;
  }
}

}  // namespace gradflow::cli
