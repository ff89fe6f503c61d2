#!/usr/bin/env bash
# scripts/cuda_architectures.sh against a stand-in nvidia-smi first on PATH: the GPUs' compute
# capabilities, each once, in order; 90 where nvidia-smi fails or lists no capability.
set -euo pipefail
script="$1/scripts/cuda_architectures.sh"
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
failures=0
expect() {  # expect <nvidia-smi's body> <printed architectures>
  printf '#!/bin/sh\n%s\n' "$1" >"$fake/nvidia-smi"
  chmod +x "$fake/nvidia-smi"
  local printed
  printed=$(PATH="$fake:$PATH" bash "$script")
  if [[ "$printed" != "$2" ]]; then
    echo "FAIL: nvidia-smi doing '$1' gave '$printed', expected '$2'"
    failures=$((failures + 1))
  fi
}
expect 'printf "9.0\n"' '90'
expect 'printf "9.0\n8.0\n9.0\n"' '80;90'
expect 'printf "8.6\r\n12.0\r\n"' '86;120'
expect 'echo "NVIDIA-SMI has failed" >&2; exit 9' '90'
expect 'printf "[N/A]\n"' '90'
expect 'exit 0' '90'
((failures == 0)) && echo "cuda_architectures.sh: 6 cases as expected"
exit "$failures"
