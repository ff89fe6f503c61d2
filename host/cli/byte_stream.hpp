#pragma once
// Plain values, vectors of them and strings laid end to end in a byte string, and read back in the
// same order: what travels between the ranks of an MPI job (mpi_job.cpp, shared_solve.hpp). Both
// ends are the same build of the same program, so the values keep this machine's layout.
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace gradflow::cli {

class byte_writer {
public:
  template <class Value>
  void put(const Value& value) {
    static_assert(std::is_trivially_copyable_v<Value>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  template <class Value>
  void put(const std::vector<Value>& values) {
    put(std::uint64_t(values.size()));
    bytes_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(Value));
  }
  void put(const std::string& text) {
    put(std::uint64_t(text.size()));
    bytes_ += text;
  }
  std::string& bytes() { return bytes_; }

private:
  std::string bytes_;
};

class byte_reader {
public:
  explicit byte_reader(const std::string& bytes) : bytes_(bytes) {}
  template <class Value>
  void take(Value& value) {
    static_assert(std::is_trivially_copyable_v<Value>);
    std::memcpy(&value, bytes_.data() + at_, sizeof value);
    at_ += sizeof value;
  }
  template <class Value>
  void take(std::vector<Value>& values) {
    std::uint64_t size = 0;
    take(size);
    values.resize(size);
    std::memcpy(values.data(), bytes_.data() + at_, size * sizeof(Value));
    at_ += size * sizeof(Value);
  }
  void take(std::string& text) {
    std::uint64_t size = 0;
    take(size);
    text = bytes_.substr(at_, size);
    at_ += size;
  }

private:
  const std::string& bytes_;
  std::size_t at_ = 0;
};

}  // namespace gradflow::cli
