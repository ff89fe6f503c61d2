#!/bin/bash
# rkcd and rkc (each problem's stage count from its κ, the step from its damped length): old
# (bf589dc, one problem per thread, built in /tmp/wt_head/build) against new (lanes), then the new
# build's fused path in lanes against lockstep at n = 32 and 128.
cd "$(dirname "$0")/../../.."
for m in rkcd rkc; do
  echo "== $m"
  bench/paired_runs.sh /tmp/wt_head/build/gradflow build-cpu/gradflow --method $m
done
for m in rkcd rkc; do
  bench/fused_against_lockstep.sh build-cpu/gradflow 32 2000 --method $m
  bench/fused_against_lockstep.sh build-cpu/gradflow 128 200 --method $m
done
