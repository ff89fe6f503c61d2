// libFuzzer target: the .npy reader must answer any bytes with an array or an io_error, never a
// crash, a hang or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <string>

#include "gradflow/error.hpp"
#include "gradflow/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto array =
        gradflow::parse_npy(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    std::int64_t count = 1;
    for (std::int64_t extent : array.shape) count *= extent;
    if (count != std::int64_t(array.values.size())) __builtin_trap();  // shape and data must agree
  } catch (const gradflow::io_error&) {
  }
  return 0;
}
