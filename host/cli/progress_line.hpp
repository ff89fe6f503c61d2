#pragma once
#include <cstdint>

namespace gradflow::cli {

/// A progress line on stderr, rewritten in place — members finished, live members, elapsed time and
/// an estimate of the rest — shown only when stderr is a terminal and the command is not --quiet.
class progress_line {
public:
  progress_line(bool wanted, std::int64_t total);
  /// Whether a line is drawn at all (a terminal and not --quiet).
  bool enabled() const { return enabled_; }
  void update(std::int64_t done, std::int64_t live, double elapsed_seconds) const;
  /// Ends the line (a newline), if one was drawn.
  void finish() const;

private:
  bool enabled_;
  std::int64_t total_;
};

}  // namespace gradflow::cli
