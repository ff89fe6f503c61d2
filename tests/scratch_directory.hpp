#pragma once
// A scratch directory per test and per test process, so that two test runs on one machine (a CI
// clone beside a checkout) never share, or tear down, each other's files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace gradflow {

inline std::filesystem::path scratch_directory(const std::string& prefix) {
  return std::filesystem::temp_directory_path() /
         (prefix + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
          std::to_string(::getpid()));
}

}  // namespace gradflow
