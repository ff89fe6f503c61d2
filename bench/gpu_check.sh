#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU, build for sm_90, run every test (gpu label
# included), run compute-sanitizer memcheck on the GPU tests, run the seed smoke benchmark, and
# write a JSON record (commit, date, device, driver, pass/fail, figures) to $GRADFLOW_RECORD_DIR
# (default bench/results). Dependencies missing there come from .deps/*.deb (bench/fetch_gpu_deps.sh),
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
  export LD_LIBRARY_PATH="$PWD/.deps/prefix/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
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
step configure cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES=90 "${prefix_args[@]}"
step build cmake --build build-gpu --parallel "$(nproc)"
step ctest ctest --test-dir build-gpu --output-on-failure --parallel 4
step memcheck compute-sanitizer --tool memcheck --error-exitcode 1 build-gpu/tests/gradflow_gpu_tests
step benchmark build-gpu/gradflow_seed_smoke --benchmark_out="$logs/benchmark.json" --benchmark_out_format=json

skipped=$(grep -c '\*\*\*Skipped' "$logs/ctest.log" || true)
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
    bench = json.load(open(os.path.join(logs, "benchmark.json")))
    record["benchmarks"] = [
        {k: b.get(k) for k in ("name", "real_time", "time_unit", "problems_per_s",
                               "gradient_evals_per_s", "converged_fraction", "label", "error_message")}
        for b in bench["benchmarks"]]
except (OSError, ValueError, KeyError):
    record["benchmarks"] = []
path = os.path.join(record_dir, f"gpu_check_{record['date'][:10]}_{commit}.json")
json.dump(record, open(path, "w"), indent=2)
print(json.dumps(record, indent=2))
print("record:", path)
PY
exit $failed
