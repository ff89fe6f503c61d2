#!/usr/bin/env bash
# Sets up, then runs the main job: the seed example (A 50×5 uniform, U 5×2, B = A·U, U0 random)
# as a batch, integrated with Tsit5 on the best backend (CUDA when a device answers, else the
# CPU), and prints the summary naming the backend. BATCH overrides the batch size.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
batch=${BATCH:-100000}
echo "gradflow: seed example, ${batch} problems of A 50x5, U 5x2 (Tsit5, PI control, f64)"
build/gradflow solve --random "${batch},50,5,2" --seed 1 --random-u0 --method tsit5 \
  --rtol 1e-12 --atol 1e-14 --gtol 1e-10 --backend auto \
  --out build/seed_solution.npy --report build/seed_report.csv "$@"
echo "wrote build/seed_solution.npy (shape ${batch},5,2) and build/seed_report.csv"
