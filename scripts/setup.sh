#!/usr/bin/env bash
# Installs the Debian packages the build needs (only those missing), then configures and builds
# gradflow into build/. Offline machines: set GRADFLOW_OFFLINE=1 and pass the prefix holding the
# dependencies in GRADFLOW_CMAKE_ARGS (e.g. -DCMAKE_PREFIX_PATH=/path/to/prefix); see README.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ clang libclang-rt-14-dev libomp-dev libgtest-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libeigen3-dev libopenblas-dev ccache python3-numpy
  python3-matplotlib libopenmpi-dev openmpi-bin)
if [[ "${GRADFLOW_OFFLINE:-0}" != 1 ]] && command -v dpkg-query >/dev/null; then
  missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    sudo=""
    [[ "$(id -u)" -ne 0 ]] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# nvcc usually lives outside PATH; with it the CUDA backend is built, without it a CPU-only build.
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# Device code for this machine's GPUs (sm_90 alone without one), unless the arguments choose.
architectures=()
if command -v nvcc >/dev/null && [[ "${GRADFLOW_CMAKE_ARGS:-}" != *CMAKE_CUDA_ARCHITECTURES* ]]; then
  architectures=("-DCMAKE_CUDA_ARCHITECTURES=$(scripts/cuda_architectures.sh)")
fi
# shellcheck disable=SC2086  # GRADFLOW_CMAKE_ARGS is a list of arguments
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "${architectures[@]}" \
  ${GRADFLOW_CMAKE_ARGS:-} >/dev/null
cmake --build build --parallel "$(nproc)"
