#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gradflow {

/// An array read from a NumPy `.npy` file (format versions 1–3, little-endian float64 or float32,
/// C order). Values are widened to double; `source_is_float32` records the file's dtype.
struct npy_array {
  std::vector<std::int64_t> shape;
  std::vector<double> values;
  bool source_is_float32 = false;
};

/// Throws io_error naming the path and what is wrong (missing, truncated, bad magic, unsupported
/// dtype or Fortran order, size disagreeing with the shape).
npy_array read_npy(const std::string& path);

/// The same from the bytes of a file; `name` goes into error messages.
npy_array parse_npy(const std::string& bytes, const std::string& name);

/// The array's values in Real. Throws invalid_argument naming `field` (e.g. "A 'a.npy'"), the
/// element's index and the value where a finite value lies past Real's range — float64 data read in
/// single precision — rather than holding it as an infinity the solve would blame on the file.
template <class Real>
std::vector<Real> values_as(const npy_array& array, const std::string& field);

/// Writes a C-order `.npy` file (version 1.0) of dtype float64 or float32 after Real.
template <class Real>
void write_npy(const std::string& path, const std::vector<std::int64_t>& shape, const Real* data);

}  // namespace gradflow
