#!/bin/bash
# Paired one-thread runs of two builds of the CLI on the seed batch (B = 2·10⁴, 50×5, k = 2), f64
# and f32, three pairs each: old and new at once on separate CPUs, then swapped, so that both see
# the same machine load; prints each pair's compute times, their ratio, the evaluations and
# whether the answers are identical (cmp).
# Usage: bench/paired_runs.sh OLD_GRADFLOW NEW_GRADFLOW [solve options: --method M ...]
set -u
old=$(realpath "$1") new=$(realpath "$2")
shift 2
work=$(mktemp -d)
cd "$work"
for prec in f64 f32; do
  for pair in 1 2 3; do
    if [ $((pair % 2)) = 1 ]; then co=0 cn=1; else co=1 cn=0; fi
    rm -f old.* new.*
    OMP_NUM_THREADS=1 taskset -c $co "$old" solve --random 20000,50,5,2 "$@" --precision $prec --path fused --out old.npy >/dev/null 2>old.err &
    OMP_NUM_THREADS=1 taskset -c $cn "$new" solve --random 20000,50,5,2 "$@" --precision $prec --path fused --out new.npy >/dev/null 2>new.err &
    wait
    cat old.err new.err
    python3 - "$prec" "$pair" <<'PY'
import json, sys
precision, pair = sys.argv[1:]
o, n = json.load(open('old.json')), json.load(open('new.json'))
print(f"{precision} pair {pair}: old compute {o['compute_seconds']:.4f} s | new compute "
      f"{n['compute_seconds']:.4f} s | ratio {o['compute_seconds'] / n['compute_seconds']:.2f}x | "
      f"evaluations {o['gradient_evaluations']} {n['gradient_evaluations']} | status {n['status_counts']}")
PY
    cmp old.npy new.npy && echo "$prec pair $pair: answers identical (cmp)"
  done
done
rm -rf "$work"
