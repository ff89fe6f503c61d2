// gradflow under mpirun: the members of a sweep (or a training grid, or a solve's batch) shared
// among 4 ranks write the single-process files byte for byte, a killed job resumes to it, and one
// rank's failure ends the run with its message and a table that is a whole prefix of the answer.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"

#ifndef GRADFLOW_CLI_HAS_MPI
#define GRADFLOW_CLI_HAS_MPI 0
#endif
#ifndef GRADFLOW_MPIEXEC
#define GRADFLOW_MPIEXEC ""
#endif
#ifndef GRADFLOW_SOURCE_DIR
#define GRADFLOW_SOURCE_DIR ""
#endif

namespace gradflow {
namespace {

class MpiCli : public Cli {
protected:
  void SetUp() override {
    Cli::SetUp();
    if (IsSkipped()) return;
    if (!GRADFLOW_CLI_HAS_MPI) GTEST_SKIP() << "the CLI is built without MPI (`gradflow info`)";
    // Open MPI refuses root without these and more ranks than cores (CI has 2) without
    // --oversubscribe; MPICH needs neither and ignores the variables.
    const std::string environment =
        "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 ";
    const bool open_mpi =
        run_shell(environment + GRADFLOW_MPIEXEC + " --version").output.find("open-mpi.org") !=
        std::string::npos;
    launcher_ = environment + GRADFLOW_MPIEXEC + (open_mpi ? " --oversubscribe" : "");
  }

  /// `mpiexec -n ranks gradflow arguments`.
  std::string on_ranks(int ranks, const std::string& arguments) const {
    return launcher_ + " -n " + std::to_string(ranks) + " " + GRADFLOW_CLI_PATH + " " + arguments;
  }

  std::string launcher_;
};

/// The seed sweep at 1 152 members, traced: enough chunks that every rank gets several.
const std::string seed_sweep =
    "sweep --preset seed --lr 1e-6:1:48:log --backend cpu --trace every=5 --quiet";

TEST(MpiInfo, SaysWhetherMpiIsCompiledIn) {
  if (std::string(GRADFLOW_CLI_PATH).empty()) GTEST_SKIP() << "the CLI is not built";
  const auto info = run("info");
  EXPECT_NE(info.output.find(GRADFLOW_CLI_HAS_MPI ? "mpi: on (" : "mpi: off (not compiled"),
            std::string::npos)
      << info.output;
}

TEST_F(MpiCli, FourRanksWriteTheSingleProcessTableByteForByte) {
  ASSERT_EQ(run(seed_sweep + " --out " + path("one.csv")).exit_code, 0);
  const auto shared = run_shell(on_ranks(4, seed_sweep + " --out " + path("four.csv")));
  ASSERT_EQ(shared.exit_code, 0) << shared.output;
  EXPECT_EQ(read_file(path("four.csv")), read_file(path("one.csv")));
  EXPECT_EQ(read_file(path("four.trace.csv")), read_file(path("one.trace.csv")));
  EXPECT_FALSE(std::filesystem::exists(path("four.csv.progress")));
  // The sidecar says what each rank computed: every member once.
  const auto ranks = nlohmann::json::parse(read_file(path("four.json"))).at("ranks");
  ASSERT_EQ(ranks.size(), 4u) << ranks;
  std::int64_t members = 0;
  for (const auto& rank : ranks) members += rank.at("members").get<std::int64_t>();
  EXPECT_EQ(members, 1152);
  // JSON Lines and --chunk too; the table equals the single process's at any chunk size.
  const std::string jsonl = seed_sweep + " --format jsonl --chunk 7 --out ";
  ASSERT_EQ(run(jsonl + path("one_lines.jsonl")).exit_code, 0);
  ASSERT_EQ(run_shell(on_ranks(3, jsonl + path("three.jsonl"))).exit_code, 0);
  EXPECT_EQ(read_file(path("three.jsonl")), read_file(path("one_lines.jsonl")));
  // Without --out rank 0 prints the summary once.
  const auto printed = run_shell(on_ranks(4, "sweep --preset seed --backend cpu"));
  ASSERT_EQ(printed.exit_code, 0) << printed.output;
  const auto summary = run("sweep --preset seed --backend cpu");
  const auto best = summary.output.find("best:");
  ASSERT_NE(best, std::string::npos) << summary.output;
  const std::string best_line = summary.output.substr(best, summary.output.find('\n', best) - best);
  EXPECT_NE(printed.output.find(best_line), std::string::npos) << printed.output;
  EXPECT_EQ(printed.output.find(best_line), printed.output.rfind(best_line)) << printed.output;
}

TEST_F(MpiCli, SolveSharedAmongRanksWritesTheSingleProcessFiles) {
  // Least squares with a per-problem start (U0 moves with its problem) and a trace; then
  // objectives.
  const auto files = [&](const std::string& tag) {
    return " --out " + path("u" + tag + ".npy") + " --report " + path("r" + tag + ".csv") +
           " --trace-out " + path("t" + tag + ".csv");
  };
  const std::string solve =
      "solve --random 300,50,5,2 --random-u0 --backend cpu --trace every=10 --quiet";
  ASSERT_EQ(run(solve + files("1")).exit_code, 0);
  const auto shared = run_shell(on_ranks(4, solve + files("4")));
  ASSERT_EQ(shared.exit_code, 0) << shared.output;
  for (const char* file : {"u%.npy", "r%.csv", "t%.csv"}) {
    std::string one = file, four = file;
    one.replace(one.find('%'), 1, "1");
    four.replace(four.find('%'), 1, "4");
    EXPECT_EQ(read_file(path(four)), read_file(path(one))) << four;
  }
  // One A shared by every problem (its view's stride 0), a B each.
  random_spec spec;
  spec.batch_size = 30;
  const auto batch = random_least_squares<double>(spec);
  write_npy(path("shared_a.npy"), {50, 5}, batch.matrix.data());
  write_npy(path("b.npy"), {30, 50, 2}, batch.rhs.data());
  const std::string shared_a = "solve --A " + path("shared_a.npy") + " --B " + path("b.npy") +
                               " --backend cpu --quiet --out ";
  ASSERT_EQ(run(shared_a + path("s1.npy")).exit_code, 0);
  ASSERT_EQ(run_shell(on_ranks(4, shared_a + path("s4.npy"))).exit_code, 0);
  EXPECT_EQ(read_file(path("s4.npy")), read_file(path("s1.npy")));
  const std::string objectives =
      "solve --problem mgh:rosenbrock,mgh:beale,mgh:rosenbrock,mgh:beale,mgh:rosenbrock "
      "--method lbfgs --lr 1e-3 --x0-scale 2 --quiet --out ";
  ASSERT_EQ(run(objectives + path("x1.npy")).exit_code, 0);
  ASSERT_EQ(run_shell(on_ranks(3, objectives + path("x3.npy"))).exit_code, 0);
  EXPECT_EQ(read_file(path("x3.npy")), read_file(path("x1.npy")));
  // The summary is printed once, by rank 0, for the whole batch.
  const auto printed = run_shell(on_ranks(4, "solve --random 40,50,5,2 --backend cpu"));
  ASSERT_EQ(printed.exit_code, 0) << printed.output;
  EXPECT_NE(printed.output.find("batch: 40 problems"), std::string::npos) << printed.output;
  EXPECT_EQ(printed.output.find("batch:"), printed.output.rfind("batch:")) << printed.output;
}

TEST_F(MpiCli, TrainingSharedAmongRanksMatchesOneProcess) {
  const std::string train = small_train + " --seed 0:3:4 --chunk 1 --out ";
  ASSERT_EQ(run(train + path("one.csv")).exit_code, 0);
  const auto shared = run_shell(on_ranks(3, train + path("three.csv")));
  ASSERT_EQ(shared.exit_code, 0) << shared.output;
  EXPECT_EQ(without_timing(read_file(path("three.csv"))),
            without_timing(read_file(path("one.csv"))));
  EXPECT_EQ(read_file(path("three.weights.jsonl")), read_file(path("one.weights.jsonl")));
}

TEST_F(MpiCli, KilledJobResumesToTheIdenticalTable) {
  ASSERT_EQ(run(seed_sweep + " --chunk 16 --out " + path("whole.csv")).exit_code, 0);
  // Killed without warning — mpirun and every rank, as a scheduler does — once the journal records
  // a saved chunk; then resumed by a new job.
  const std::string journal = path("killed.csv.progress");
  const auto killed = run_shell(
      "(" + on_ranks(4, seed_sweep + " --chunk 16 --out " + path("killed.csv")) +
      " & job=$!; while ! grep -qE '\"next_member\": [1-9]' '" + journal +
      "' 2>/dev/null && kill -0 $job 2>/dev/null; do sleep 0.01; done; " +
      "ranks=$(pgrep -P $job); kill -KILL $job $ranks 2>/dev/null; wait $job; echo \"exit $?\"; " +
      "while [ -n \"$ranks\" ] && kill -0 $ranks 2>/dev/null; do sleep 0.01; done)");
  if (reported_exit(killed) == 0) GTEST_SKIP() << "the job finished before it could be killed";
  EXPECT_EQ(reported_exit(killed), 137) << killed.output;
  const auto resumed =
      run_shell(on_ranks(4, seed_sweep + " --chunk 16 --out " + path("killed.csv") + " --resume"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(read_file(path("killed.csv")), read_file(path("whole.csv")));
  EXPECT_EQ(read_file(path("killed.trace.csv")), read_file(path("whole.trace.csv")));
  EXPECT_FALSE(std::filesystem::exists(journal));
  // A job resumes a single process's run as well, and the other way round.
  const auto single = signal_when_exists(seed_sweep + " --chunk 16 --out " + path("single.csv"),
                                         path("single.csv.progress"), "KILL");
  if (reported_exit(single) != 0) {
    const auto finished = run_shell(
        on_ranks(2, seed_sweep + " --chunk 16 --out " + path("single.csv") + " --resume"));
    ASSERT_EQ(finished.exit_code, 0) << finished.output;
    EXPECT_EQ(read_file(path("single.csv")), read_file(path("whole.csv")));
  }
}

TEST_F(MpiCli, OneRanksFailureEndsTheRunWithItsMessageAndAWholeTable) {
  if (cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device answers: rank 3 would not fail";
  ASSERT_EQ(run(seed_sweep + " --chunk 8 --out " + path("whole.csv")).exit_code, 0);
  // Rank 3 asks for a GPU this machine does not have (as on a node without one); ranks 0–2 are
  // fine.
  const std::string sweep = seed_sweep + " --chunk 8 --out " + path("failed.csv");
  std::string on_cuda = sweep;
  on_cuda.replace(on_cuda.find("--backend cpu"), 13, "--backend cuda");
  const auto failed = run_shell(launcher_ + " -n 3 " + GRADFLOW_CLI_PATH + " " + sweep +
                                " : -n 1 " + GRADFLOW_CLI_PATH + " " + on_cuda);
  if (failed.exit_code == 0) GTEST_SKIP() << "rank 3 started after every chunk was handed out";
  EXPECT_EQ(failed.exit_code, 2) << failed.output;
  // "but no CUDA device answers", or in a build without CUDA "but this libgradflow was built …".
  EXPECT_NE(failed.output.find("gradflow: rank 3: backend cuda requested but "), std::string::npos)
      << failed.output;
  // Whatever was saved is whole rows of the first members, and the journal says how far.
  const std::string whole = read_file(path("whole.csv"));
  const std::string saved = read_file(path("failed.csv"));
  EXPECT_EQ(whole.compare(0, saved.size(), saved), 0);
  EXPECT_EQ(saved.back(), '\n');
  const auto finished =
      run_shell(on_ranks(4, seed_sweep + " --chunk 8 --out " + path("failed.csv") + " --resume"));
  ASSERT_EQ(finished.exit_code, 0) << finished.output;
  EXPECT_EQ(read_file(path("failed.csv")), whole);
}

TEST_F(MpiCli, SlurmScriptRunsTheSweepAndFinishesAnInterruptedOne) {
  // srun stands in for Slurm's: the ranks come from mpiexec instead.
  std::ofstream(path("srun")) << "#!/bin/sh\nshift\nexec env " << launcher_ << " -n 3 \"$@\"\n";
  std::filesystem::permissions(path("srun"), std::filesystem::perms::owner_all);
  const std::string script = "PATH=" + directory_.string() +
                             ":$PATH GRADFLOW=" + GRADFLOW_CLI_PATH + " " + GRADFLOW_SOURCE_DIR +
                             "/scripts/slurm_sweep.sbatch ";
  const std::string sweep = seed_sweep + " --chunk 16 --out ";
  const std::string options = sweep.substr(sweep.find(' ') + 1);  // the script says `sweep`
  ASSERT_EQ(run(sweep + path("one.csv")).exit_code, 0);
  const auto ran = run_shell(script + options + path("job.csv"));
  ASSERT_EQ(ran.exit_code, 0) << ran.output;
  EXPECT_EQ(read_file(path("job.csv")), read_file(path("one.csv")));
  // A run killed before the job (or a requeued job) leaves a journal: the script resumes it.
  const auto killed =
      signal_when_exists(sweep + path("requeued.csv"), path("requeued.csv.progress"), "KILL");
  if (reported_exit(killed) != 0) {
    const auto finished = run_shell(script + options + path("requeued.csv"));
    ASSERT_EQ(finished.exit_code, 0) << finished.output;
    EXPECT_EQ(read_file(path("requeued.csv")), read_file(path("one.csv")));
  }
  const auto no_out = run_shell(script + "--preset seed");
  EXPECT_EQ(no_out.exit_code, 2);
  EXPECT_NE(no_out.output.find("pass --out TABLE"), std::string::npos) << no_out.output;
}

TEST_F(MpiCli, AMistakeInTheCommandIsReportedOnce) {
  const auto result = run_shell(on_ranks(4, "sweep --preset seed --lr 0:1"));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  const std::string line = "gradflow: invalid axis lr = '0:1'";
  EXPECT_NE(result.output.find(line), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find(line), result.output.rfind(line)) << result.output;
  // A command that is not shared runs on rank 0 alone.
  const auto info = run_shell(on_ranks(2, "info"));
  EXPECT_EQ(info.exit_code, 0) << info.output;
  EXPECT_EQ(info.output.find("gradflow "), info.output.rfind("gradflow ")) << info.output;
}

}  // namespace
}  // namespace gradflow
