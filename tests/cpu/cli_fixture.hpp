#pragma once
// The gradflow executable run as a user runs it, for the CLI tests: a shell command's exit code and
// output, and a fixture with a scratch directory per test.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "gradflow/gradflow.hpp"
#include "gradflow/npy.hpp"
#include "scratch_directory.hpp"

#ifndef GRADFLOW_CLI_PATH
#define GRADFLOW_CLI_PATH ""
#endif

namespace gradflow {

struct run_result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline run_result run_shell(const std::string& command_line) {
  run_result result;
  const std::string command = command_line + " 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 512> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe)) result.output += buffer.data();
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

/// The gradflow executable with `arguments`, stdout and stderr together.
inline run_result run(const std::string& arguments) {
  return run_shell(std::string(GRADFLOW_CLI_PATH) + " " + arguments);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class Cli : public ::testing::Test {
protected:
  std::filesystem::path directory_ = scratch_directory("gradflow_cli_");
  void SetUp() override {
    if (std::string(GRADFLOW_CLI_PATH).empty()) GTEST_SKIP() << "the CLI is not built";
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  std::string path(const std::string& name) const { return (directory_ / name).string(); }

  /// Writes `count` seed problems (A 50×5, B 50×2) to a.npy and b.npy; returns " --A … --B …".
  std::string write_seed_files(std::int64_t count) const {
    random_spec spec;
    spec.batch_size = count;
    const auto batch = random_least_squares<double>(spec);
    write_npy(path("a.npy"), {count, 50, 5}, batch.matrix.data());
    write_npy(path("b.npy"), {count, 50, 2}, batch.rhs.data());
    return " --A " + path("a.npy") + " --B " + path("b.npy");
  }

  void expect_usage_error(const std::string& arguments, const std::string& fragment) {
    const auto result = run(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.output;
    EXPECT_NE(result.output.find(fragment), std::string::npos) << arguments << "\n"
                                                               << result.output;
    const auto newline = result.output.find('\n');
    EXPECT_TRUE(newline == std::string::npos || newline + 1 == result.output.size())
        << "expected one line:\n"
        << result.output;
  }
};

/// Starts `arguments` in the background, waits until `condition_file` exists (or the run ends),
/// then sends `signal`; returns the run's exit code (128 + signal when it was killed). Polls
/// instead of sleeping a fixed time, so a loaded machine cannot make the signal land too early.
inline run_result signal_when_exists(const std::string& arguments,
                                     const std::string& condition_file, const std::string& signal) {
  return run_shell("(" + std::string(GRADFLOW_CLI_PATH) + " " + arguments + " & pid=$!; " +
                   "while [ ! -e '" + condition_file + "' ] && kill -0 $pid 2>/dev/null; do " +
                   "sleep 0.01; done; kill -" + signal + " $pid 2>/dev/null; wait $pid; " +
                   "echo \"exit $?\")");
}

/// The exit code signal_when_exists printed last.
inline int reported_exit(const run_result& result) {
  const auto at = result.output.rfind("exit ");
  return at == std::string::npos ? -1 : std::atoi(result.output.c_str() + at + 5);
}

/// A small train run (the seed study in miniature: 40 samples on [0, 6], H = 8).
inline const std::string small_train =
    "train --samples 40 --train-end 6 --test-samples 30 --test-end 8 --hidden 8 --backend cpu "
    "--quiet";

/// A train table without its batch_seconds column (the one that depends on timing).
inline std::string without_timing(const std::string& table) {
  std::istringstream lines(table);
  std::string line, kept;
  while (std::getline(lines, line)) kept += line.substr(0, line.rfind(',')) + "\n";
  return kept;
}

}  // namespace gradflow
