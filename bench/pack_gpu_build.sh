#!/usr/bin/env bash
# Builds here, where no GPU is needed, what the GPU check runs on a lent machine (the GPU tests, the
# suite and the CLI, for sm_90) and packs it into build-gpu-pack/pack/ (git-ignored), to be carried there
# with .deps: the device call then spends none of its minutes compiling (a fresh build there waits
# minutes on its longest source, host/mgh_solve.cpp). The CPU code is built for x86-64-v3 (AVX2,
# FMA; override with GRADFLOW_PACK_CPU_FLAGS), since the lent machine's processor is not known here.
# bench/gpu_check.sh uses the pack only where every source matches the one built here
# (pack/sources.sha256; bench/gpu_build.sh) and builds for itself otherwise. 13 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/gpu_build.sh
run_alone bench/pack_gpu_build.sh
if [[ -n $(git status --porcelain) ]]; then
  echo "pack_gpu_build: the tree has uncommitted changes; commit them, so that the pack is one commit's" >&2
  exit 2
fi
export PATH=/usr/local/cuda/bin:$PATH
pack=$pack_dir
dir=$pack_build_dir
cpu_flags=${GRADFLOW_PACK_CPU_FLAGS:--march=x86-64-v3}
rm -rf "$dir"
mkdir -p "$pack"
# The lent machine runs one process: MPI would add a library it does not have. Its CUDA libraries
# may sit in a standard toolkit's directories rather than where this machine's are. The programs
# get their install RUNPATH (those, then the libraries' own directories) as built: a build RUNPATH
# of a target with install rules ends in CMake's padding, an empty entry that the loader reads as
# the current directory.
gpu_configure_command "$dir" "$cpu_flags" -DGRADFLOW_ENABLE_MPI=OFF \
  -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DCMAKE_INSTALL_RPATH_USE_LINK_PATH=ON \
  "-DCMAKE_INSTALL_RPATH=/usr/local/cuda/lib64;/usr/local/cuda/targets/x86_64-linux/lib"
"${configure_command[@]}"
# The compilers' output (ptxas -v) is the check's record of each kernel's resources.
if ! cmake --build "$dir" --parallel "$(nproc)" \
  --target gradflow_gpu_tests gradflow_suite gradflow_cli >"$pack/build.log" 2>&1; then
  tail -n 40 "$pack/build.log"
  echo "pack_gpu_build: the build failed; nothing packed" >&2
  rm -rf "$pack"
  exit 1
fi
XZ_OPT=-T0 tar -C "$dir" -cJf "$pack/binaries.tar.xz" "${packed_binaries[@]}"
write_pack_manifest "$pack"
cat >"$pack/about.json" <<JSON
{"commit": "$(git rev-parse --short HEAD)", "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "cpu_flags": "$cpu_flags", "nvcc": "$(nvcc --version | tail -n 1)",
 "cxx": "$("$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$dir/CMakeCache.txt")" --version | head -n 1)"}
JSON
du -sh "$pack"/*
echo "packed $(git rev-parse --short HEAD) into $pack: carry it with .deps (README, \"Benchmarks\")"
