#!/usr/bin/env bash
# Issue #16's CPU targets: three runs of the suite's CPU cases one after another, each kept and
# summarised: cpu_targets.sh SUITE DIR (SUITE: a Release build's gradflow_suite,
# GRADFLOW_BUILD_BENCH=ON, CUDA off; DIR: where suite_N.json and summary_N.md go).
# OPENBLAS_CORETYPE is dropped so that OpenBLAS picks its kernels by the CPU: the targets are read
# against the machine's own GEMM ceiling (bench/openblas_kernels.hpp).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
suite=$1
out=$2
mkdir -p "$out"
for run in 1 2 3; do
  env -u OPENBLAS_CORETYPE "$suite" --benchmark_filter='^(ceiling/cpu|batch/cpu/fused|blas_loop/cpu)' \
    --benchmark_out="$out/suite_$run.json" >/dev/null
  python3 "$here/summarize.py" "$out/suite_$run.json" >"$out/summary_$run.md"
done
