#!/bin/bash
# Paired one-thread runs: old (fe4ba8d, L-BFGS one problem per thread) and new (lanes) at once on
# separate CPUs, then swapped; the seed batch (B = 10⁵) and n = 32 / 128 (B = 2000, k = 2).
mkdir -p /tmp/lbfgs_ab && cd /tmp/lbfgs_ab
OLD=/tmp/wt_head/build/gradflow NEW=/work/main/build-cpu/gradflow
pair_runs() {  # label, precision, random spec, pairs
  local label=$1 prec=$2 spec=$3
  for pair in $(seq 1 $4); do
    if [ $((pair % 2)) = 1 ]; then co=0; cn=1; else co=1; cn=0; fi
    rm -f old.* new.*
    OMP_NUM_THREADS=1 taskset -c $co $OLD solve --random $spec --random-u0 --method lbfgs --precision $prec --path fused --max-steps 2000 --out old.npy >/dev/null 2>&1 &
    OMP_NUM_THREADS=1 taskset -c $cn $NEW solve --random $spec --random-u0 --method lbfgs --precision $prec --path fused --max-steps 2000 --out new.npy >/dev/null 2>&1 &
    wait
    python3 - "$label" "$prec" "$pair" <<'PY'
import json,sys
label,p,pair=sys.argv[1:]
o=json.load(open('old.json')); n=json.load(open('new.json'))
print(f"{label} {p} pair {pair}: old compute {o['compute_seconds']:.3f} s | new compute {n['compute_seconds']:.3f} s | ratio {o['compute_seconds']/n['compute_seconds']:.2f}x | evaluations {o['gradient_evaluations']} {n['gradient_evaluations']} | status {n['status_counts']}")
PY
    cmp old.npy new.npy && echo "$label $prec pair $pair: answers identical (cmp)"
  done
}
for prec in f64 f32; do pair_runs seed $prec 100000,50,5,2 4; done
pair_runs n32 f64 2000,104,32,2 2
pair_runs n128 f64 2000,200,128,2 2
