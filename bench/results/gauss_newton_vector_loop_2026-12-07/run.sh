#!/usr/bin/env bash
# add_terms with and without GRADFLOW_VECTOR_LOOP: the 2026-12-05 microbenchmarks against two
# include trees, then the neural-ODE study's LM rows and one hard member by two builds, alternating,
# three times. run.sh OLD_TREE NEW_TREE OLD_BUILD NEW_BUILD OUT_DIR (builds: Release, CUDA off,
# GRADFLOW_BUILD_BENCH=ON; a tree's include/ is read, a build's include/ for version.hpp).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old_tree=$1 new_tree=$2 old=$3 new=$4 out=$5
micro=$here/../collocation_gauss_newton_2026-12-05
mkdir -p "$out"
# The library's flags (CMakeLists.txt: host_flags, -march=native, OpenMP).
flags=(-O3 -march=native -std=c++17 -ffp-contract=off -fno-math-errno -fno-trapping-math -fopenmp)
for tree in old new; do
  tree_dir=${tree}_tree
  g++ "${flags[@]}" -I"${!tree_dir}/include" -I"$new/include" "$micro/gauss_newton_microbench.cpp" -o "$out/gauss_newton_$tree"
  g++ "${flags[@]}" -I"${!tree_dir}/include" -I"$new/include" "$micro/cholesky_microbench.cpp" -o "$out/cholesky_$tree"
  echo "$tree: $(objdump -d "$out/gauss_newton_$tree" | grep -c vgather) gather instructions in the Gauss–Newton microbenchmark"
done
for run in 1 2 3; do
  for tree in old new; do
    build=${!tree}
    echo "== $tree, run $run"
    "$out/gauss_newton_$tree"
    "$out/cholesky_$tree"
    "$build/gradflow_neural_ode_study" --only "linearly implicit" --json "$out/study_${tree}_$run.json"
    start=$(date +%s.%N)
    "$build/gradflow" train --mu 1e4 --max-steps 300 --rounds 1 --quiet --out "$out/hard_${tree}_$run.csv"
    echo "hard member (mu 1e4, 300 iterations): $(echo "$(date +%s.%N) - $start" | bc) s"
  done
done
