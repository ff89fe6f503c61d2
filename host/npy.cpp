#include "gradflow/npy.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <type_traits>

#include "gradflow/error.hpp"
#include "number_text.hpp"

// The .npy format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
namespace gradflow {
namespace {

constexpr char magic[] = "\x93NUMPY";
constexpr std::size_t magic_size = 6;
constexpr std::uint32_t max_header_size = 1u << 20;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw io_error("cannot read .npy file '" + name + "': " + what);
}

/// The text after `'key':` in the header dictionary, or empty when the key is absent.
std::string value_after_key(const std::string& header, const std::string& key) {
  const std::size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) return {};
  const std::size_t colon = header.find(':', at);
  if (colon == std::string::npos) return {};
  std::size_t begin = colon + 1;
  while (begin < header.size() && std::isspace(static_cast<unsigned char>(header[begin]))) ++begin;
  return header.substr(begin);
}

std::vector<std::int64_t> parse_shape(const std::string& path, const std::string& text) {
  if (text.empty() || text[0] != '(') fail(path, "header has no 'shape' tuple");
  const std::size_t close = text.find(')');
  if (close == std::string::npos) fail(path, "header's 'shape' tuple is not closed");
  std::vector<std::int64_t> shape;
  std::size_t pos = 1;
  while (pos < close) {
    while (pos < close && (std::isspace(static_cast<unsigned char>(text[pos])) || text[pos] == ','))
      ++pos;
    if (pos >= close) break;
    if (!std::isdigit(static_cast<unsigned char>(text[pos])))
      fail(path, "header's 'shape' holds a non-integer: " + text.substr(0, close + 1));
    std::int64_t extent = 0;
    while (pos < close && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (extent > (std::numeric_limits<std::int64_t>::max() - 9) / 10)
        fail(path, "header's 'shape' extent overflows");
      extent = extent * 10 + (text[pos++] - '0');
    }
    shape.push_back(extent);
  }
  return shape;
}

/// What the header of a .npy file declares: where the data start, how many bytes follow, and how
/// to read them.
struct npy_layout {
  std::vector<std::int64_t> shape;
  std::int64_t count = 0;  ///< elements
  std::size_t item_size = 0;
  std::size_t data_offset = 0;
  std::int64_t data_bytes = 0;
};

/// Parses the magic string, version and header at the start of `bytes`; the data are not looked
/// at (they may not have been read yet).
npy_layout parse_layout(const std::string& bytes, const std::string& name) {
  std::size_t offset = 0;
  const auto take = [&](std::size_t count, const char* where) {
    if (bytes.size() - offset < count) fail(name, std::string("truncated ") + where);
    const char* start = bytes.data() + offset;
    offset += count;
    return start;
  };
  const char* prefix = take(magic_size + 2, "before the format version");
  if (std::memcmp(prefix, magic, magic_size) != 0) fail(name, "bad magic string (not a .npy file)");
  const int major = static_cast<unsigned char>(prefix[magic_size]);
  if (major < 1 || major > 3) fail(name, "unsupported format version " + std::to_string(major));
  const int size_width = major == 1 ? 2 : 4;
  const auto* size_bytes =
      reinterpret_cast<const unsigned char*>(take(size_width, "in the header length"));
  std::uint32_t header_size = 0;
  for (int b = size_width - 1; b >= 0; --b) header_size = header_size << 8 | size_bytes[b];
  if (header_size > max_header_size)
    fail(name, "header length " + std::to_string(header_size) + " is implausible");
  const std::string header(take(header_size, "in the header"), header_size);

  const std::string descr = value_after_key(header, "descr");
  npy_layout layout;
  if (descr.rfind("'<f8'", 0) == 0 || descr.rfind("'=f8'", 0) == 0) {
    layout.item_size = 8;
  } else if (descr.rfind("'<f4'", 0) == 0 || descr.rfind("'=f4'", 0) == 0) {
    layout.item_size = 4;
  } else {
    const std::string shown = descr.substr(0, descr.find_first_of(",}"));
    fail(name, "unsupported dtype " + (shown.empty() ? std::string("(missing)") : shown) +
                   " (expected little-endian float64 '<f8' or float32 '<f4')");
  }
  const std::string fortran = value_after_key(header, "fortran_order");
  if (fortran.rfind("False", 0) != 0) {
    fail(name, fortran.rfind("True", 0) == 0
                   ? "Fortran-order arrays are not supported (save with np.ascontiguousarray)"
                   : "header has no valid 'fortran_order'");
  }
  layout.shape = parse_shape(name, value_after_key(header, "shape"));
  layout.count = 1;
  for (std::int64_t extent : layout.shape) {
    if (extent != 0 && layout.count > std::numeric_limits<std::int64_t>::max() / 8 / extent)
      fail(name, "shape is too large");
    layout.count *= extent;
  }
  layout.data_offset = offset;
  layout.data_bytes = layout.count * static_cast<std::int64_t>(layout.item_size);
  return layout;
}

/// The array from `bytes`, which must hold exactly the header and the data it declares.
npy_array decode(const npy_layout& layout, const std::string& bytes, const std::string& name) {
  const std::int64_t available = std::int64_t(bytes.size() - layout.data_offset);
  if (available != layout.data_bytes) {
    fail(name, "data holds " + std::to_string(available) + " bytes but the shape needs " +
                   std::to_string(layout.data_bytes) +
                   (available < layout.data_bytes ? " (truncated)" : ""));
  }
  npy_array array;
  array.shape = layout.shape;
  array.source_is_float32 = layout.item_size == 4;
  array.values.resize(layout.count);
  const char* data = bytes.data() + layout.data_offset;
  if (layout.item_size == 8) {
    if (layout.data_bytes > 0)  // an empty array has no buffer
      std::memcpy(array.values.data(), data, layout.data_bytes);
  } else {
    for (std::int64_t e = 0; e < layout.count; ++e) {
      float value;
      std::memcpy(&value, data + e * 4, 4);
      array.values[e] = value;
    }
  }
  return array;
}

/// Appends up to `count` bytes from `in` to `bytes`, in blocks, so that memory grows only with
/// what actually arrives (a pipe that ends early costs no more than it sent).
void read_more(std::istream& in, std::string& bytes, std::int64_t count, const std::string& name) {
  constexpr std::int64_t block = std::int64_t(1) << 20;
  while (count > 0 && in) {
    const std::size_t old = bytes.size();
    const std::int64_t want = count < block ? count : block;
    bytes.resize(old + std::size_t(want));
    in.read(bytes.data() + old, std::streamsize(want));
    bytes.resize(old + std::size_t(in.gcount()));
    count -= in.gcount();
    if (in.gcount() == 0) break;
  }
  if (in.bad()) fail(name, "read error");
}

}  // namespace

npy_array parse_npy(const std::string& bytes, const std::string& name) {
  return decode(parse_layout(bytes, name), bytes, name);
}

npy_array read_npy(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) fail(path, "it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "no such file or not readable");
  // The header first (its length is in the first bytes), then exactly the data it declares.
  std::string bytes;
  read_more(in, bytes, magic_size + 2, path);
  if (bytes.size() == magic_size + 2 && std::memcmp(bytes.data(), magic, magic_size) == 0) {
    const int size_width = bytes[magic_size] == 1 ? 2 : 4;
    read_more(in, bytes, size_width, path);
    if (bytes.size() == magic_size + 2 + std::size_t(size_width)) {
      std::uint32_t header_size = 0;
      for (int b = size_width - 1; b >= 0; --b)
        header_size = header_size << 8 | static_cast<unsigned char>(bytes[magic_size + 2 + b]);
      if (header_size <= max_header_size) read_more(in, bytes, header_size, path);
    }
  }
  const npy_layout layout = parse_layout(bytes, path);
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  const bool regular = std::filesystem::is_regular_file(path, error) && !error;
  const std::int64_t expected = std::int64_t(layout.data_offset) + layout.data_bytes;
  if (regular && std::int64_t(size) != expected)
    fail(path, "data holds " +
                   std::to_string(std::int64_t(size) - std::int64_t(layout.data_offset)) +
                   " bytes but the shape needs " + std::to_string(layout.data_bytes) +
                   (std::int64_t(size) < expected ? " (truncated)" : ""));
  read_more(in, bytes, layout.data_bytes, path);
  if (!regular && in.peek() != std::char_traits<char>::eof())
    fail(path, "more data than the shape " + std::to_string(layout.data_bytes) + " bytes needs");
  return decode(layout, bytes, path);
}

template <class Real>
std::vector<Real> values_as(const npy_array& array, const std::string& field) {
  std::vector<Real> values(array.values.begin(), array.values.end());
  if constexpr (std::is_same_v<Real, double>) return values;  // only float narrows
  for (std::size_t e = 0; e < values.size(); ++e) {
    if (std::isfinite(values[e]) || !std::isfinite(array.values[e])) continue;
    std::string index;  // C order: the last extent varies fastest
    for (std::size_t d = array.shape.size(), rest = e; d-- > 0;) {
      const auto extent = std::size_t(array.shape[d]);
      index = std::to_string(rest % extent) + (index.empty() ? "" : ", ") + index;
      rest /= extent;
    }
    throw invalid_argument(field + " holds " + detail::number_text(array.values[e]) + " at (" +
                           index + "), past single precision's range (about 3.4e38): read it " +
                           "in double precision");
  }
  return values;
}

template <class Real>
void write_npy(const std::string& path, const std::vector<std::int64_t>& shape, const Real* data) {
  static_assert(std::is_same_v<Real, float> || std::is_same_v<Real, double>);
  std::ostringstream dict;
  dict << "{'descr': '<f" << sizeof(Real) << "', 'fortran_order': False, 'shape': (";
  std::int64_t count = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    dict << shape[d] << (shape.size() == 1 || d + 1 < shape.size() ? "," : "");
    if (d + 1 < shape.size()) dict << ' ';
    count *= shape[d];
  }
  dict << "), }";
  std::string header = dict.str();
  // Pad with spaces so that the data starts on a 64-byte boundary; the header ends in '\n'.
  const std::size_t unpadded = magic_size + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');

  // Write beside the target and rename, so a reader never sees a half-written file.
  const std::string partial = path + ".partial";
  bool written = false;
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) throw io_error("cannot write .npy file '" + path + "': cannot open for writing");
    const unsigned char version[2] = {1, 0};
    const unsigned char size[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                   static_cast<unsigned char>(header.size() >> 8)};
    out.write(magic, magic_size);
    out.write(reinterpret_cast<const char*>(version), 2);
    out.write(reinterpret_cast<const char*>(size), 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(data),
              static_cast<std::streamsize>(count * sizeof(Real)));
    written = static_cast<bool>(out.flush());
  }
  if (!written) {  // a full disk: leave nothing behind
    std::remove(partial.c_str());
    throw io_error("cannot write .npy file '" + path + "': write failed (disk full?)");
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    throw io_error("cannot write .npy file '" + path + "': rename failed");
  }
}

template std::vector<float> values_as(const npy_array&, const std::string&);
template std::vector<double> values_as(const npy_array&, const std::string&);
template void write_npy(const std::string&, const std::vector<std::int64_t>&, const float*);
template void write_npy(const std::string&, const std::vector<std::int64_t>&, const double*);

}  // namespace gradflow
