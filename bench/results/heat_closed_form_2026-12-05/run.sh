#!/usr/bin/env bash
# Builds both microbenchmarks against a gradflow tree and runs them: run.sh TREE BUILD (BUILD holds
# include/gradflow/version.hpp and libgradflow.a, e.g. build). Run it on the tree before and after.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tree=$1 build=$2
flags=(-O3 -march=native -std=c++17 -fopenmp -I"$tree/include" -I"$build/include")
g++ "${flags[@]}" "$here/evaluation_microbench.cpp" -o /tmp/heat_evaluation
g++ "${flags[@]}" "$here/epochs_microbench.cpp" "$build/libgradflow.a" -lopenblas -o /tmp/heat_epochs
/tmp/heat_evaluation
/tmp/heat_epochs
