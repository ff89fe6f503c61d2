#!/bin/bash
# Paired one-thread runs: old (6162ffa) and new at once on separate CPUs, then swapped.
cd /tmp/cg_ab
OLD=/tmp/wt_head/build/gradflow NEW=/work/main/build-cpu/gradflow
for prec in f64 f32; do
  for pair in 1 2 3 4 5 6; do
    if [ $((pair % 2)) = 1 ]; then co=0; cn=1; else co=1; cn=0; fi
    rm -f old_$prec.* new_$prec.*
    OMP_NUM_THREADS=1 taskset -c $co $OLD solve --random 100000,50,5,2 --method cg --precision $prec --path fused --out old_$prec.npy >/dev/null 2>&1 &
    OMP_NUM_THREADS=1 taskset -c $cn $NEW solve --random 100000,50,5,2 --method cg --precision $prec --path fused --out new_$prec.npy >/dev/null 2>&1 &
    wait
    python3 - "$prec" "$pair" <<'PY'
import json,sys
p,pair=sys.argv[1],sys.argv[2]
o=json.load(open(f'old_{p}.json')); n=json.load(open(f'new_{p}.json'))
print(f"{p} pair {pair}: old compute {o['compute_seconds']:.3f} s wall {o['wall_seconds']:.3f} | new compute {n['compute_seconds']:.3f} s wall {n['wall_seconds']:.3f} | ratio {o['compute_seconds']/n['compute_seconds']:.2f}x | evaluations {o['gradient_evaluations']} {n['gradient_evaluations']} | status {n['status_counts']}")
PY
    cmp old_$prec.npy new_$prec.npy && echo "$prec pair $pair: answers identical (cmp)"
  done
done
