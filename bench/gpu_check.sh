#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU, build for sm_90 (recording each kernel's
# registers and local memory, bench/kernel_resources.py), run every test (gpu label
# included), run compute-sanitizer memcheck on the GPU tests, run the performance suite (GPU cases,
# then CPU cases, one JSON each), the peers (PyTorch, JAX + diffrax) on 10⁶ seed problems, and
# write a JSON record (commit, date, device, driver, pass/fail, figures, ratios, targets) to
# $GRADFLOW_RECORD_DIR (default bench/results). Dependencies missing there come from .deps/*.deb (bench/fetch_gpu_deps.sh),
# unpacked into .deps/prefix. Exits non-zero if any step fails; the record says which.
set -uo pipefail
cd "$(dirname "$0")/.."
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

step() {  # step NAME COMMAND...: run, log to $logs/NAME.log, remember pass/fail
  local name=$1; shift
  echo "== $name: $*"
  if "$@" >"$logs/$name.log" 2>&1; then results+=("\"$name\": \"pass\""); else results+=("\"$name\": \"fail\""); failed=1; fi
  tail -n 5 "$logs/$name.log"
}
results=()
failed=0
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# ptxas -v: each kernel's registers and local memory go into the build's log, for kernel_resources.
step configure cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES=90 "-DCMAKE_CUDA_FLAGS=-Xptxas -v" "${prefix_args[@]}"
step build cmake --build build-gpu --parallel "$(nproc)"
step kernel_resources python3 bench/kernel_resources.py "$logs/build.log"
# GRADFLOW_CHECK_PARTS=tests or bench splits the check over two device calls of 10 minutes each.
parts=${GRADFLOW_CHECK_PARTS:-all}
if [[ $parts != bench ]]; then
step ctest ctest --test-dir build-gpu --output-on-failure --parallel 4
step memcheck compute-sanitizer --tool memcheck --error-exitcode 1 build-gpu/tests/gradflow_gpu_tests
fi
if [[ $parts != tests ]]; then
step suite_gpu timeout 300 build-gpu/gradflow_suite --benchmark_filter='/cuda/' \
  --benchmark_out="$logs/suite_gpu.json" --benchmark_out_format=json
step suite_cpu timeout 90 build-gpu/gradflow_suite --benchmark_filter='/cpu/' \
  --benchmark_out="$logs/suite_cpu.json" --benchmark_out_format=json
step peers timeout 180 python3 bench/peers/run_peers.py --gradflow build-gpu/gradflow \
  --batch 1000000 --peers torchode,torch,jax --backend cuda --out "$logs/peers.json"
suites=()
for suite in "$logs/suite_gpu.json" "$logs/suite_cpu.json"; do [[ -s $suite ]] && suites+=("$suite"); done
peers_args=()
[[ -s "$logs/peers.json" ]] && peers_args=(--peers "$logs/peers.json")
((${#suites[@]})) && python3 bench/summarize.py "${suites[@]}" "${peers_args[@]}" \
  --json "$logs/summary.json" | tee "$logs/summary.md"
fi

skipped=0
[[ -f "$logs/ctest.log" ]] && skipped=$(grep -c '\*\*\*Skipped' "$logs/ctest.log" || true)
python3 - "$record_dir" "$logs" "$skipped" "${results[@]}" <<'PY'
import json, subprocess, sys, datetime, os
record_dir, logs, skipped, *steps = sys.argv[1:]
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
    "ctest_skipped": int(skipped),
}
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
