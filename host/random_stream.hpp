#pragma once
#include <cmath>
#include <cstdint>

namespace gradflow::detail {

/// SplitMix64 (Steele, Lea, Flood 2014): one independent, portable stream per (seed, problem), so
/// problem i is the same whatever the batch size or thread count.
class problem_stream {
public:
  problem_stream(std::uint64_t seed, std::int64_t problem)
      : state_(seed * 0x9e3779b97f4a7c15ull ^
               (std::uint64_t(problem) + 1) * 0xbf58476d1ce4e5b9ull) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  double normal() {  // Box–Muller
    const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
    return radius * std::cos(6.283185307179586 * uniform());
  }

private:
  std::uint64_t state_;
};

}  // namespace gradflow::detail
