#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "gradflow/gradflow.hpp"
#include "scratch_directory.hpp"

namespace gradflow {
namespace {

class Npy : public ::testing::Test {
protected:
  std::filesystem::path directory_ = scratch_directory("gradflow_npy_");
  void SetUp() override { std::filesystem::create_directories(directory_); }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  std::string path(const std::string& name) const { return (directory_ / name).string(); }

  void write_raw(const std::string& name, const std::string& header, std::size_t data_bytes) const {
    std::ofstream out(path(name), std::ios::binary);
    const unsigned char prefix[] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    out.write(reinterpret_cast<const char*>(prefix), sizeof prefix);
    const unsigned char size[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                   static_cast<unsigned char>(header.size() >> 8)};
    out.write(reinterpret_cast<const char*>(size), 2);
    out << header;
    out << std::string(data_bytes, '\0');
  }

  void expect_read_error(const std::string& name, const std::string& fragment) const {
    try {
      read_npy(path(name));
      ADD_FAILURE() << name << " was accepted";
    } catch (const io_error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
};

TEST_F(Npy, RoundTripKeepsShapeValuesAndDtype) {
  const std::vector<double> values = {1.5, -2.25, 3e-300, 4e300, 5, 6};
  write_npy(path("d.npy"), {1, 2, 3}, values.data());
  const auto read = read_npy(path("d.npy"));
  EXPECT_EQ(read.shape, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(read.values, values);
  EXPECT_FALSE(read.source_is_float32);

  const std::vector<float> narrow = {0.1f, 0.2f, 0.3f};
  write_npy(path("f.npy"), {3}, narrow.data());
  const auto read_narrow = read_npy(path("f.npy"));
  EXPECT_EQ(read_narrow.shape, (std::vector<std::int64_t>{3}));
  EXPECT_TRUE(read_narrow.source_is_float32);
  for (int e = 0; e < 3; ++e) EXPECT_EQ(read_narrow.values[e], double(narrow[e]));
}

TEST_F(Npy, EmptyArraysReadBack) {  // found by the fuzzer: a memcpy to an empty vector's buffer
  write_npy<double>(path("empty.npy"), {0, 5}, nullptr);
  const auto read = read_npy(path("empty.npy"));
  EXPECT_EQ(read.shape, (std::vector<std::int64_t>{0, 5}));
  EXPECT_TRUE(read.values.empty());
}

TEST_F(Npy, HeaderIsPaddedToSixtyFourBytes) {
  const double value = 1;
  write_npy(path("one.npy"), {1}, &value);
  EXPECT_EQ(std::filesystem::file_size(path("one.npy")) % 64, 8u);
}

TEST_F(Npy, MalformedFilesAreRejectedWithTheReason) {
  expect_read_error("missing.npy", "no such file");
  std::ofstream(path("text.npy")) << "hello, world";
  expect_read_error("text.npy", "bad magic");
  write_raw("int.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }\n", 16);
  expect_read_error("int.npy", "unsupported dtype '<i8'");
  write_raw("big.npy", "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }\n", 16);
  expect_read_error("big.npy", "unsupported dtype");
  write_raw("fortran.npy", "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }\n", 32);
  expect_read_error("fortran.npy", "Fortran");
  write_raw("short.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }\n", 40);
  expect_read_error("short.npy", "truncated");
  write_raw("noshape.npy", "{'descr': '<f8', 'fortran_order': False, }\n", 8);
  expect_read_error("noshape.npy", "shape");
  std::ofstream(path("cut.npy"), std::ios::binary) << "\x93NUMPY\x01";
  expect_read_error("cut.npy", "truncated");
}

TEST_F(Npy, LeastSquaresShapesAreRecognised) {
  const auto batch = [] {
    random_spec spec;
    spec.batch_size = 3;
    spec.rows = 6;
    spec.unknowns = 2;
    spec.rhs_count = 1;
    return random_least_squares<double>(spec);
  }();
  write_npy(path("a3.npy"), {3, 6, 2}, batch.matrix.data());
  write_npy(path("a2.npy"), {6, 2}, batch.matrix.data());
  write_npy(path("b3.npy"), {3, 6, 1}, batch.rhs.data());
  write_npy(path("b_vectors.npy"), {3, 6}, batch.rhs.data());
  write_npy(path("b_shared.npy"), {6, 1}, batch.rhs.data());
  write_npy(path("b_wrong.npy"), {3, 5}, batch.rhs.data());
  write_npy(path("b_batch4.npy"), {1, 6, 1}, batch.rhs.data());

  auto full = least_squares_from_npy<double>(path("a3.npy"), path("b3.npy"));
  EXPECT_EQ(full.batch_size, 3);
  EXPECT_EQ(full.rhs_count, 1);
  EXPECT_EQ(full.matrix, batch.matrix);
  auto vectors = least_squares_from_npy<float>(path("a3.npy"), path("b_vectors.npy"));
  EXPECT_EQ(vectors.batch_size, 3);
  EXPECT_EQ(vectors.rhs_count, 1);
  auto shared_a = least_squares_from_npy<double>(path("a2.npy"), path("b3.npy"));
  EXPECT_EQ(shared_a.batch_size, 3);
  EXPECT_TRUE(shared_a.shares_matrix());
  auto shared_b = least_squares_from_npy<double>(path("a3.npy"), path("b_shared.npy"));
  EXPECT_EQ(shared_b.batch_size, 3);
  EXPECT_TRUE(shared_b.shares_rhs());
  EXPECT_THROW(least_squares_from_npy<double>(path("a3.npy"), path("b_wrong.npy")),
               dimension_mismatch);
  EXPECT_THROW(least_squares_from_npy<double>(path("a3.npy"), path("b_batch4.npy")),
               dimension_mismatch);
}

TEST_F(Npy, ValuesPastSinglePrecisionAreRefusedNotHeldAsInfinities) {
  // float64 data read in f32: 1e300 would narrow to inf and be blamed on the file as "non-finite".
  std::vector<double> a(2 * 3 * 2, 0.5), b(2 * 3, 1.0);
  a[1 * 6 + 2 * 2 + 0] = -1e300;  // problem 1, row 2, column 0
  write_npy(path("a.npy"), {2, 3, 2}, a.data());
  write_npy(path("b.npy"), {2, 3}, b.data());
  try {
    least_squares_from_npy<float>(path("a.npy"), path("b.npy"));
    ADD_FAILURE() << "-1e300 was read in single precision";
  } catch (const invalid_argument& e) {
    const std::string expected =
        "A '" + path("a.npy") + "' holds -1e+300 at (1, 2, 0), past single precision's range";
    EXPECT_EQ(std::string(e.what()).rfind(expected, 0), 0u) << e.what();
  }
  EXPECT_EQ(least_squares_from_npy<double>(path("a.npy"), path("b.npy")).matrix, a);

  // What float holds is kept as it narrows: the largest float, a subnormal, and the non-finite
  // values that solve names (or, with skip_invalid, turns into invalid_input members).
  const double largest = std::numeric_limits<float>::max();
  npy_array held;
  held.shape = {5};
  held.values = {largest, -largest, 1e-40, std::numeric_limits<double>::infinity(),
                 std::numeric_limits<double>::quiet_NaN()};
  const std::vector<float> narrowed = values_as<float>(held, "U0");
  EXPECT_EQ(narrowed[0], std::numeric_limits<float>::max());
  EXPECT_EQ(narrowed[1], -std::numeric_limits<float>::max());
  EXPECT_EQ(narrowed[2], float(1e-40));
  EXPECT_TRUE(std::isinf(narrowed[3]));
  EXPECT_TRUE(std::isnan(narrowed[4]));
  held.values[1] = std::nextafter(-largest, -2 * largest);  // rounds to -max: still held
  EXPECT_EQ(values_as<float>(held, "U0")[1], -std::numeric_limits<float>::max());
  held.values[1] = -2 * largest;
  EXPECT_THROW(values_as<float>(held, "U0"), invalid_argument);
}

}  // namespace
}  // namespace gradflow
