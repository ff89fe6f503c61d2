#!/usr/bin/env bash
# Sets up, then runs the main job: the seed showcase sweep — the seed discussion's random 50×5
# least-squares problem (2 right-hand sides, random start) under heavy-ball flow, RK4 at dt = √lr,
# over 24 learning rates × 24 damping ratios — on the best backend (CUDA when a device answers,
# else the CPU; the summary names it). Extra arguments go to `gradflow sweep`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build/gradflow sweep --preset seed --backend auto --out build/seed_sweep.csv "$@"
