#!/bin/bash
# One build of the CLI on both execution paths, two threads, f64: random problems with n unknowns
# (n + 72 rows, k = 2, a random U0), the fused path's and lockstep's compute times, evaluations,
# statuses, and whether the answers are identical (cmp).
# Usage: bench/fused_against_lockstep.sh GRADFLOW N BATCH [solve options: --method M ...]
set -u
gradflow=$(realpath "$1") n=$2 batch=$3
shift 3
work=$(mktemp -d)
cd "$work"
for path in fused lockstep; do
  "$gradflow" solve --random "$batch,$((n + 72)),$n,2" --random-u0 "$@" --precision f64 --path $path --out $path.npy >/dev/null
  python3 -c "import json; d = json.load(open('$path.json')); print('n = $n, B = $batch, $path', d['compute_seconds'], 's', d['gradient_evaluations'], d['status_counts'])"
done
cmp fused.npy lockstep.npy && echo "n = $n: answers identical (cmp)"
rm -rf "$work"
