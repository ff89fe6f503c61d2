#!/usr/bin/env bash
# Prints the CMAKE_CUDA_ARCHITECTURES that scripts/setup.sh builds for: the compute capabilities of
# the GPUs nvidia-smi lists (8.0 and 9.0 → "80;90"), or 90 alone where none answers — a machine
# without a GPU only checks that the device code compiles and links, and one architecture does
# that in half the time of CMakeLists.txt's "80-real;90" (README, "Two commands").
set -uo pipefail
capabilities=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null) || capabilities=""
architectures=$(printf '%s\n' "$capabilities" | tr -d ' \r' | grep -E '^[0-9]+\.[0-9]+$' |
  tr -d '.' | sort -un | paste -sd ';' -)
echo "${architectures:-90}"
