#!/usr/bin/env bash
# Issue #16's CPU targets: three runs of the suite's CPU cases one after another, each kept and
# summarised: cpu_targets.sh SUITE DIR (SUITE: a Release build's gradflow_suite,
# GRADFLOW_BUILD_BENCH=ON, CUDA off; DIR: where suite_N.json and summary_N.md go).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
suite=$1
out=$2
mkdir -p "$out"
for run in 1 2 3; do
  "$suite" --benchmark_filter='^(ceiling/cpu|batch/cpu/fused|blas_loop/cpu)' \
    --benchmark_out="$out/suite_$run.json" >/dev/null
  python3 "$here/summarize.py" "$out/suite_$run.json" >"$out/summary_$run.md"
done
