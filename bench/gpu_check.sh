#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU, build for sm_90 (recording each kernel's
# registers and local memory, bench/kernel_resources.py) or unpack what bench/pack_gpu_build.sh
# built ahead for this tree's sources (build-gpu-pack/pack/), run the GPU tests, compute-sanitizer memcheck
# on them, the other tests (when built here: a pack holds none), the performance suite (GPU cases,
# then CPU cases, one JSON each), the peers (PyTorch, JAX + diffrax) on 10⁶ seed problems, and
# write a JSON record (commit, date, device, driver, how it was built, pass/fail, figures, ratios,
# targets) to $GRADFLOW_RECORD_DIR (default bench/results). Dependencies missing there come from
# .deps/*.deb (bench/fetch_gpu_deps.sh), unpacked into .deps/prefix. Each step has a time limit,
# and GRADFLOW_CHECK_SECONDS bounds the whole check (bench/check_steps.sh), so that its record is
# written inside a device call of fixed length; the record holds each step's outcome (pass, fail,
# timeout, skipped) and the last lines of each log that did not pass. Exits non-zero unless every
# step passed.
set -uo pipefail
cd "$(dirname "$0")/.."
source bench/check_steps.sh
source bench/gpu_build.sh
run_alone bench/gpu_check.sh
start_check  # the deadline counts from here: unpacking the dependencies is part of the check
record_dir=${GRADFLOW_RECORD_DIR:-bench/results}
logs=${GRADFLOW_LOG_DIR:-build-gpu/logs}
mkdir -p "$record_dir" "$logs"
export PATH=/usr/local/cuda/bin:$PATH

prefix_args=()
if compgen -G ".deps/*.deb" >/dev/null; then
  mkdir -p .deps/prefix
  for deb in .deps/*.deb; do dpkg -x "$deb" .deps/prefix; done
  prefix_args=(-DCMAKE_PREFIX_PATH="$PWD/.deps/prefix/usr")
  libraries=$PWD/.deps/prefix/usr/lib/x86_64-linux-gnu
  export LD_LIBRARY_PATH="$libraries:$libraries/openblas-pthread:${LD_LIBRARY_PATH:-}"
fi

# The peers' wheels (torchode and what it needs beside PyTorch), for the peers step alone.
peers_path=${PYTHONPATH:-}
if compgen -G ".deps/wheels/*.whl" >/dev/null &&
  python3 -m pip install --quiet --no-index --no-deps --no-compile --upgrade --target .deps/site \
    .deps/wheels/*.whl; then
  peers_path=$PWD/.deps/site${PYTHONPATH:+:$PYTHONPATH}
fi

# An earlier check's outputs, which would read as this one's (each step removes its own log too).
rm -f "$logs"/{suite_gpu,suite_cpu,peers,summary}.json "$logs/summary.md" "$logs"/{gpu,cpu}_tests.log

# A pack built ahead for these sources saves the build; one that does not start here (a library
# missing) is reported and the check builds for itself.
pack=$pack_dir
built_by=here
if pack_matches_tree "$pack"; then
  step unpack 60 bash -c "mkdir -p build-gpu && tar -C build-gpu -xJf $pack/binaries.tar.xz &&
    build-gpu/tests/gradflow_gpu_tests --gtest_list_tests >/dev/null && build-gpu/gradflow --version"
  if [[ ${results[-1]} == *pass* ]]; then
    built_by=pack
    cp "$pack/build.log" "$logs/build.log"
  fi
elif [[ -e $pack ]]; then
  echo "== $pack was built for other sources: building here"
fi
if [[ $built_by != pack ]]; then
  # The lent machine's own vector units for the CPU code.
  gpu_configure_command build-gpu "" "${prefix_args[@]}"
  step configure 120 "${configure_command[@]}"
  step build 0 cmake --build build-gpu --parallel "$(nproc)"
fi
step kernel_resources 60 python3 bench/kernel_resources.py "$logs/build.log"
# GRADFLOW_CHECK_PARTS=tests or bench splits the check over two device calls of 10 minutes each.
parts=${GRADFLOW_CHECK_PARTS:-all}
if [[ $parts != bench ]]; then
  # What only this machine can check comes first: the GPU tests, memcheck on them, then the rest.
  if [[ $built_by == pack ]]; then
    step gpu_tests 180 build-gpu/tests/gradflow_gpu_tests
  else
    step gpu_tests 180 ctest --test-dir build-gpu --output-on-failure -L gpu --parallel 4
  fi
  step memcheck 240 compute-sanitizer --tool memcheck --error-exitcode 1 build-gpu/tests/gradflow_gpu_tests
  # A pack holds no CPU tests: every CI run passes them on the build machine.
  [[ $built_by == pack ]] ||
    step cpu_tests 300 ctest --test-dir build-gpu --output-on-failure -LE gpu --parallel 4
fi
if [[ $parts != tests ]]; then
step suite_gpu 300 build-gpu/gradflow_suite --benchmark_filter='/cuda/' \
  --benchmark_out="$logs/suite_gpu.json" --benchmark_out_format=json
step suite_cpu 90 env -u OPENBLAS_CORETYPE build-gpu/gradflow_suite --benchmark_filter='/cpu/' \
  --benchmark_out="$logs/suite_cpu.json" --benchmark_out_format=json
step peers 240 env PYTHONPATH="$peers_path" python3 bench/peers/run_peers.py --gradflow build-gpu/gradflow \
  --batch 1000000 --peers torchode,torch,jax --backend cuda --peer-timeout 60 --out "$logs/peers.json"
suites=()
for suite in "$logs/suite_gpu.json" "$logs/suite_cpu.json"; do [[ -s $suite ]] && suites+=("$suite"); done
peers_args=()
[[ -s "$logs/peers.json" ]] && peers_args=(--peers "$logs/peers.json")
((${#suites[@]})) && python3 bench/summarize.py "${suites[@]}" "${peers_args[@]}" \
  --json "$logs/summary.json" | tee "$logs/summary.md"
fi

# Tests that skipped (no device answering is the usual cause): ctest marks each; the GPU tests'
# own executable, run from a pack, counts them in its summary.
skipped=0
for log in "$logs/gpu_tests.log" "$logs/cpu_tests.log"; do
  [[ -f $log ]] || continue
  skipped=$((skipped + $(grep -c '\*\*\*Skipped' "$log")))
  in_summary=$(grep -oP '^\[  SKIPPED \] \K[0-9]+(?= tests?, listed below)' "$log" | head -n 1)
  skipped=$((skipped + ${in_summary:-0}))
done
python3 - "$record_dir" "$logs" "$skipped" "$built_by" "$pack/about.json" "${results[@]}" <<'PY'
import json, subprocess, sys, datetime, os
record_dir, logs, skipped, built_by, pack_about, *steps = sys.argv[1:]
def run(*cmd):
    try: return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    except OSError: return ""
commit = run("git", "rev-parse", "--short", "HEAD") or "unknown"
smi = run("nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader").split(", ")
record = {
    "commit": commit,
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "device": smi[0] or "unknown", "driver": smi[1] if len(smi) > 1 else "unknown",
    "steps": json.loads("{" + ", ".join(steps) + "}"),
    "tests_skipped": int(skipped),
    "built_by": built_by,
}
if built_by == "pack":
    record["pack"] = json.load(open(pack_about))
def tail(name, lines=40):
    try:
        return "".join(open(os.path.join(logs, name + ".log"), errors="replace").readlines()[-lines:])
    except OSError:
        return None
# What went wrong travels in the record, which may be the one file that comes back.
record["logs_not_passed"] = {name: tail(name) for name, outcome in record["steps"].items()
                             if outcome in ("fail", "timeout")}
try:
    record["kernel_resources"] = open(os.path.join(logs, "kernel_resources.log")).read()
except OSError:
    record["kernel_resources"] = None
for key, name in (("summary", "summary.json"), ("peers", "peers.json")):
    try:
        record[key] = json.load(open(os.path.join(logs, name)))
    except (OSError, ValueError):
        record[key] = None
path = os.path.join(record_dir, f"gpu_check_{record['date'][:10]}_{commit}.json")
json.dump(record, open(path, "w"), indent=2)
print(json.dumps(record, indent=2))
print("record:", path)
PY
exit $failed
