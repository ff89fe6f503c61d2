// all_finite and first_non_finite against std::isfinite: every kind of value (zeros, subnormals,
// the largest finite, infinities, NaNs of either sign and payload) at every position of arrays long
// enough to take whole vectors and a remainder.
#include "finite_values.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace gradflow::detail {
namespace {

template <class Real>
class finite_values_test : public ::testing::Test {};
using precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(finite_values_test, precisions);

template <class Real>
std::vector<Real> special_values() {
  using limits = std::numeric_limits<Real>;
  Real negative_nan_with_payload;
  const Real nan = limits::quiet_NaN();
  std::memcpy(&negative_nan_with_payload, &nan, sizeof nan);
  negative_nan_with_payload = -negative_nan_with_payload;
  return {Real(0),
          -Real(0),
          limits::denorm_min(),
          -limits::denorm_min(),
          limits::min(),
          limits::max(),
          -limits::max(),
          Real(1.5),
          limits::infinity(),
          -limits::infinity(),
          limits::quiet_NaN(),
          limits::signaling_NaN(),
          negative_nan_with_payload};
}

TYPED_TEST(finite_values_test, agrees_with_isfinite_at_every_position) {
  using Real = TypeParam;
  int non_finite_seen = 0;
  for (const Real special : special_values<Real>()) {
    for (std::size_t size = 0; size <= 67; ++size) {
      for (std::size_t at = 0; at < std::max<std::size_t>(size, 1); ++at) {
        std::vector<Real> values(size, Real(0.25));
        if (size > 0) values[at] = special;
        const bool expected =
            std::all_of(values.begin(), values.end(), [](Real v) { return std::isfinite(v); });
        ASSERT_EQ(all_finite(values.data(), values.size()), expected)
            << "value " << special << " at " << at << " of " << size;
        const auto first =
            std::find_if(values.begin(), values.end(), [](Real v) { return !std::isfinite(v); });
        ASSERT_EQ(first_non_finite(values.data(), values.size()),
                  std::size_t(first - values.begin()))
            << "value " << special << " at " << at << " of " << size;
        non_finite_seen += !expected;
      }
    }
  }
  EXPECT_GT(non_finite_seen, 0);  // the special values include infinities and NaNs
}

}  // namespace
}  // namespace gradflow::detail
