#!/usr/bin/env bash
# Sequential training of the seed study's 64 members (Adam lr 1e-2, 3000 epochs; L-BFGS, 1000
# iterations), the binary before this change (old) and after it (new), alternating, two threads.
set -eu
for round in 1 2; do
  for build in old new; do
    for solver in "--method adam --lr 1e-2 --max-steps 3000" "--method lbfgs --max-steps 1000"; do
      name=$(echo "$solver" | cut -d' ' -f2)
      /usr/bin/time -f "$build $name round $round: %e s wall, %U s user" /tmp/gradflow_$build train \
        --formulation sequential $solver --seed 0:63:64 --out ${build}_${name}_$round.csv --quiet
    done
  done
done
for name in adam lbfgs; do
  cmp old_${name}_1.weights.jsonl new_${name}_1.weights.jsonl && echo "$name: the same weights"
done
