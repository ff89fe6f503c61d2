#!/usr/bin/env bash
# The heat evaluator by solves (OLD_TREE) and by products with the inverses (NEW_TREE): the
# 2026-12-05 microbenchmarks built against each tree's headers, alternating, three times.
# run.sh OLD_TREE NEW_TREE BUILD (BUILD: include/gradflow/version.hpp and libgradflow.a).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old_tree=$1 new_tree=$2 build=$3
micro=$here/../heat_closed_form_2026-12-05
# The library's flags (CMakeLists.txt: host_flags, -march=native, OpenMP).
flags=(-O3 -march=native -std=c++17 -ffp-contract=off -fno-math-errno -fno-trapping-math -fopenmp)
for tree in old new; do
  tree_dir=${tree}_tree
  g++ "${flags[@]}" -I"${!tree_dir}/include" -I"$build/include" "$micro/evaluation_microbench.cpp" \
    -o "/tmp/heat_evaluation_$tree"
  g++ "${flags[@]}" -I"${!tree_dir}/include" -I"$build/include" "$micro/epochs_microbench.cpp" \
    "$build/libgradflow.a" -lopenblas -o "/tmp/heat_epochs_$tree"
done
for run in 1 2 3; do
  for tree in old new; do
    echo "== $tree run $run"
    "/tmp/heat_evaluation_$tree"
    "/tmp/heat_epochs_$tree"
  done
done
