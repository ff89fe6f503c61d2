#include "progress_line.hpp"

#include <unistd.h>

#include <cstdio>

namespace gradflow::cli {

progress_line::progress_line(bool wanted, std::int64_t total)
    : enabled_(wanted && ::isatty(STDERR_FILENO)), total_(total) {}

void progress_line::update(std::int64_t done, std::int64_t live, double elapsed_seconds) const {
  if (!enabled_) return;
  const double left = done > 0 ? elapsed_seconds * double(total_ - done) / double(done) : 0.0;
  std::fprintf(stderr, "\r\033[Kgradflow: %lld/%lld members finished, %lld live, %.1f s elapsed",
               static_cast<long long>(done), static_cast<long long>(total_),
               static_cast<long long>(live), elapsed_seconds);
  if (done > 0 && done < total_) std::fprintf(stderr, ", ~%.0f s left", left);
  std::fflush(stderr);
}

void progress_line::finish() const {
  if (enabled_) std::fprintf(stderr, "\n");
}

}  // namespace gradflow::cli
