#!/usr/bin/env bash
# The opaque-n Gauss–Newton microbenchmark and the recorded Cholesky one against two gradflow trees,
# alternately, three times: run.sh OLD_TREE NEW_TREE BUILD (BUILD holds include/gradflow/version.hpp).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old=$1 new=$2 build=$3
flags=(-O3 -march=native -std=c++17 -ffp-contract=off -fno-math-errno -fno-trapping-math -I"$build/include")
for tree in old new; do
  g++ "${flags[@]}" -I"${!tree}/include" "$here/gauss_newton_opaque_microbench.cpp" -o "/tmp/gauss_newton_$tree"
  g++ "${flags[@]}" -I"${!tree}/include" "$here/../collocation_gauss_newton_2026-12-05/cholesky_microbench.cpp" -o "/tmp/cholesky_$tree"
done
for run in 1 2 3; do
  for tree in old new; do
    echo "== $tree, run $run"
    "/tmp/gauss_newton_$tree"
    "/tmp/cholesky_$tree"
  done
done
