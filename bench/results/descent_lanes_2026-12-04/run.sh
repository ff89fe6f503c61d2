#!/bin/bash
# Paired one-thread runs of Euler and Tsit5 under descent control on gradient flow: old (73ae288,
# one problem per thread) and new (lanes) at once on separate CPUs, then swapped; the seed batch
# at B = 2·10⁴, each first step the default (from G's bound).
mkdir -p /tmp/descent_ab && cd /tmp/descent_ab
OLD=/tmp/wt_head/build/gradflow NEW=/work/main/build-cpu/gradflow
for m in euler tsit5; do
  for prec in f64 f32; do
    for pair in 1 2 3; do
      if [ $((pair % 2)) = 1 ]; then co=0; cn=1; else co=1; cn=0; fi
      rm -f old.* new.*
      OMP_NUM_THREADS=1 taskset -c $co $OLD solve --random 20000,50,5,2 --method $m --control descent --precision $prec --path fused --out old.npy >/dev/null 2>&1 &
      OMP_NUM_THREADS=1 taskset -c $cn $NEW solve --random 20000,50,5,2 --method $m --control descent --precision $prec --path fused --out new.npy >/dev/null 2>&1 &
      wait
      python3 - "$m $prec" "$pair" <<'PY'
import json,sys
p,pair=sys.argv[1:]
o=json.load(open('old.json')); n=json.load(open('new.json'))
print(f"{p} pair {pair}: old compute {o['compute_seconds']:.3f} s | new compute {n['compute_seconds']:.3f} s | ratio {o['compute_seconds']/n['compute_seconds']:.2f}x | evaluations {o['gradient_evaluations']} {n['gradient_evaluations']} | status {n['status_counts']}")
PY
      cmp old.npy new.npy && echo "$m $prec pair $pair: answers identical (cmp)"
    done
  done
done
# Fused in lanes against lockstep, two threads, f64, k = 2, B = 2000 at n = 32, 200 at n = 128
# (there Euler under descent control takes 4·10⁴ evaluations a problem).
for n in 32 128; do
  for path in fused lockstep; do
    rm -f n${n}_$path.*
    $NEW solve --random $((n == 32 ? 2000 : 200)),$((n + 72)),$n,2 --random-u0 --method euler --control descent --precision f64 --path $path --out n${n}_$path.npy >/dev/null 2>&1
    python3 -c "import json;d=json.load(open('n${n}_$path.json'));print('n = $n $path', d['compute_seconds'], 's', d['gradient_evaluations'], d['status_counts'])"
  done
  cmp n${n}_fused.npy n${n}_lockstep.npy && echo "n = $n: answers identical (cmp)"
done
