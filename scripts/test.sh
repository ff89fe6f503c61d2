#!/usr/bin/env bash
# Sets up (packages, build) and runs every check: the libFuzzer targets briefly, the CPU tests under
# AddressSanitizer + UndefinedBehaviorSanitizer, then the whole test suite (GPU tests skip, saying
# why, when no device answers). GRADFLOW_QUICK=1 runs the test suite alone.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

if [[ "${GRADFLOW_QUICK:-0}" != 1 ]]; then
  echo "== fuzz: the .npy reader and the sweep config parser (clang, libFuzzer)"
  cmake -S . -B build-fuzz "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRADFLOW_ENABLE_CUDA=OFF -DGRADFLOW_BUILD_FUZZERS=ON \
    -DGRADFLOW_BUILD_TESTS=OFF -DGRADFLOW_BUILD_CLI=OFF -DGRADFLOW_BUILD_BENCH=OFF >/dev/null
  cmake --build build-fuzz --parallel "$jobs"
  # max_len reaches every kept input (the config corpus holds a 120 KB, 20 000-level nesting). A
  # fixed seed makes the check repeatable: a finding fails every run of a commit, not one in a few
  # (GRADFLOW_FUZZ_SEED=0 lets libFuzzer pick one; longer campaigns: README, "Two commands").
  for target in npy:4096 sweep_config:131072; do
    max_len=${target#*:}
    target=${target%:*}
    scratch=$(mktemp -d)  # new inputs land here; the kept corpus (and its regressions) is read only
    if ! build-fuzz/tests/fuzz/${target}_fuzzer -runs=200000 -seed="${GRADFLOW_FUZZ_SEED:-1}" \
      -artifact_prefix="$scratch/" -max_len="$max_len" "$scratch" "tests/fuzz/corpus/$target" \
      >"$scratch.log" 2>&1; then
      tail -n 40 "$scratch.log"  # the finding: the sanitizer's report and the input in base64
      exit 1
    fi
    tail -n 1 "$scratch.log"
    rm -rf "$scratch" "$scratch.log"
  done

  # Also the build without CUDA and MPI: its CLI must work and say MPI is off (MpiInfo).
  echo "== sanitizers: the CPU tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build-sanitize "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGRADFLOW_ENABLE_CUDA=OFF -DGRADFLOW_ENABLE_MPI=OFF -DGRADFLOW_BUILD_BENCH=OFF \
    -DGRADFLOW_SANITIZE=ON >/dev/null
  cmake --build build-sanitize --parallel "$jobs"
  ctest --test-dir build-sanitize --output-on-failure --parallel "$jobs" -LE package
fi

echo "== tests"
ctest --test-dir build --output-on-failure --parallel "$jobs"
