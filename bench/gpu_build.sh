# The GPU check's build (sourced by bench/gpu_check.sh and bench/pack_gpu_build.sh): one
# configuration, whether the lent machine builds it or this one builds it ahead and packs it.

# gpu_configure_command DIR CPU_FLAGS [CMAKE ARGUMENTS...]: sets configure_command to the cmake
# line of the check's build: Release, sm_90, each kernel's registers and local memory in the build's
# output (ptxas -v, for bench/kernel_resources.py). CPU_FLAGS empty: the CPU code for this machine's
# vector units; else those flags (e.g. -march=x86-64-v3).
gpu_configure_command() {
  local dir=$1 cpu_flags=$2
  shift 2
  configure_command=(cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90
    "-DCMAKE_CUDA_FLAGS=-Xptxas -v${cpu_flags:+ -Xcompiler=$cpu_flags}")
  command -v ninja >/dev/null && configure_command+=(-G Ninja)
  [[ -n $cpu_flags ]] && configure_command+=(-DGRADFLOW_NATIVE_ARCH=OFF "-DCMAKE_CXX_FLAGS=$cpu_flags")
  configure_command+=("$@")
}

# Where bench/pack_gpu_build.sh builds, and the pack inside that build directory (ignored by git as
# every build* is; a lent machine gets it by carrying that one path).
pack_build_dir=build-gpu-pack
pack_dir=$pack_build_dir/pack

# What a pack holds: the GPU tests, the suite and the CLI (the peers call it), relative to the
# build directory.
packed_binaries=(tests/gradflow_gpu_tests gradflow_suite gradflow)

# write_pack_manifest PACK: the checksum of every file git tracks that goes into the binaries, as
# built: all but the prose, the records and the scripts that run them, which the check reads from
# the tree it runs in (a record committed after a first device call leaves the pack usable).
write_pack_manifest() {
  git ls-files -z -- . ':(exclude)*.md' ':(exclude)bench/results' ':(exclude)bench/*.sh' \
    ':(exclude)bench/*.py' ':(exclude)bench/peers' | xargs -0 sha256sum >"$1/sources.sha256"
}

# pack_matches_tree PACK: true when PACK's manifest exists and every file in it is here unchanged
# (no manifest, or a source edited, removed or renamed since the pack was built: false).
pack_matches_tree() {
  sha256sum --check --status "$1/sources.sha256" 2>/dev/null
}

# run_alone SCRIPT: exits (2) unless no other run of SCRIPT holds its lock, so that two runs never
# write one build directory or pack at once. The lock is on the script file itself, held until exit.
run_alone() {
  exec 9<"$1"
  flock --nonblock 9 || {
    echo "$(basename "$1"): another run of it is under way here; wait for it to end" >&2
    exit 2
  }
}
