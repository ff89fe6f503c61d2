#pragma once
#include <cstdint>
#include <utility>
#include <vector>

namespace gradflow {

/// A hyperparameter that is unset, one value for the whole batch, or one value per batch member
/// (a sweep). Assign a double for the first, a std::vector<double> for the second.
class hyperparameter {
public:
  hyperparameter() = default;
  hyperparameter(double value) : values_{value} {}
  hyperparameter(std::vector<double> values) : values_(std::move(values)) {}

  bool is_set() const { return !values_.empty(); }
  bool is_per_member() const { return values_.size() > 1; }
  std::size_t size() const { return values_.size(); }
  /// Member i's value (the single value when shared); `fallback` when unset.
  double at(std::int64_t i, double fallback) const {
    if (values_.empty()) return fallback;
    return values_.size() == 1 ? values_[0] : values_[static_cast<std::size_t>(i)];
  }
  const std::vector<double>& values() const { return values_; }

private:
  std::vector<double> values_;
};

}  // namespace gradflow
