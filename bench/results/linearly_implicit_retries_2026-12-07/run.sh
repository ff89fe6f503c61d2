#!/usr/bin/env bash
# The neural-ODE study's Levenberg–Marquardt rows and one hard member by the CLI, before (OLD build,
# 8976b07) and after (NEW build) the linearly implicit step kept its Gauss–Newton matrix across a
# retried step, alternating, three times: run.sh OLD_BUILD NEW_BUILD OUT_DIR. Builds: Release, CUDA
# off, GRADFLOW_BUILD_BENCH=ON.
set -euo pipefail
old=$1 new=$2 out=$3
mkdir -p "$out"
for run in 1 2 3; do
  for tree in old new; do
    build=${!tree}
    echo "== $tree, run $run"
    "$build/gradflow_neural_ode_study" --only "linearly implicit" --json "$out/study_${tree}_$run.json"
    start=$(date +%s.%N)
    "$build/gradflow" train --mu 1e4 --max-steps 300 --rounds 1 --quiet --out "$out/hard_${tree}_$run.csv"
    echo "hard member (mu 1e4, 300 iterations): $(echo "$(date +%s.%N) - $start" | bc) s"
  done
done
