#!/usr/bin/env bash
# Issue #16's CPU targets: three runs of the suite's CPU cases one after another, each summarised:
# run.sh SUITE (a Release build's gradflow_suite, GRADFLOW_BUILD_BENCH=ON, CUDA off).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
suite=$1
for run in 1 2 3; do
  "$suite" --benchmark_filter='^(ceiling/cpu|batch/cpu/fused|blas_loop/cpu)' \
    --benchmark_out="$here/suite_$run.json" >/dev/null
  python3 "$here/../../summarize.py" "$here/suite_$run.json" >"$here/summary_$run.md"
done
