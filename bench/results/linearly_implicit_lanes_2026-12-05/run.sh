#!/bin/bash
# The linearly implicit Euler step (descent control, the first step from G's bound): old (bf589dc,
# one problem per thread, built in /tmp/wt_head/build) against new (lanes), then the new build's
# fused path in lanes against lockstep at n = 32 and 128.
cd "$(dirname "$0")/../../.."
bench/paired_runs.sh /tmp/wt_head/build/gradflow build-cpu/gradflow --method linearly_implicit
bench/fused_against_lockstep.sh build-cpu/gradflow 32 2000 --method linearly_implicit
bench/fused_against_lockstep.sh build-cpu/gradflow 128 200 --method linearly_implicit
