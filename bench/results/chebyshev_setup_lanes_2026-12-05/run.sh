#!/bin/bash
# rkcd and rkc with their set-up's curvature estimates made in lanes with refills: old (a2b0683,
# estimates per problem on the engine, built in /tmp/wt_head/build) against new, paired; the new
# build's fused path against lockstep at n = 32 and 128; the suite's rkcd case, old and new
# alternating, three runs each.
cd "$(dirname "$0")/../../.."
out=bench/results/chebyshev_setup_lanes_2026-12-05
for m in rkcd rkc; do
  echo "== $m"
  bench/paired_runs.sh /tmp/wt_head/build/gradflow build-cpu/gradflow --method $m
done
for m in rkcd rkc; do
  bench/fused_against_lockstep.sh build-cpu/gradflow 32 2000 --method $m
  bench/fused_against_lockstep.sh build-cpu/gradflow 128 200 --method $m
done
for run in 1 2 3; do
  for build in old new; do
    suite=build-cpu/gradflow_suite
    [ $build = old ] && suite=/tmp/wt_head/build/gradflow_suite
    $suite --benchmark_filter='method/cpu/(rkcd_gradient|direct|gd)' \
      --benchmark_out=$out/suite_${build}_$run.json --benchmark_out_format=json >/dev/null
  done
done
