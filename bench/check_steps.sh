# The GPU check's steps (sourced by bench/gpu_check.sh). Each step runs under a time limit, logs to
# $logs/NAME.log and ends pass, fail, timeout or skipped, so that a check run inside a device call of
# fixed length still reaches its record. GRADFLOW_CHECK_SECONDS bounds the whole check (unset: no
# bound); the last GRADFLOW_CHECK_RESERVE of them (default 30) are left for the record.

# start_check: empties the results and sets the deadline from now.
start_check() {
  results=()
  failed=0
  check_deadline=
  if [[ -n ${GRADFLOW_CHECK_SECONDS:-} ]]; then
    check_deadline=$((SECONDS + GRADFLOW_CHECK_SECONDS - ${GRADFLOW_CHECK_RESERVE:-30}))
  fi
}

# step NAME LIMIT COMMAND...: runs COMMAND for at most LIMIT seconds (0: no limit of its own) and
# not past the check's deadline (none left: skipped, not run). Appends "NAME": "outcome" to
# results and sets failed=1 unless it passed; prints the log's last lines. A command that itself
# exits 124 under a limit reads as a timeout.
step() {
  local name=$1 limit=$2
  shift 2
  rm -f "$logs/$name.log"  # an earlier check's, which would read as this one's
  if [[ -n $check_deadline ]]; then
    local left=$((check_deadline - SECONDS))
    if ((left <= 0)); then
      echo "== $name: skipped, the check's time is spent"
      results+=("\"$name\": \"skipped\"")
      failed=1
      return
    fi
    ((limit == 0 || left < limit)) && limit=$left
  fi
  echo "== $name: $*"
  local rc=0 outcome=pass
  if ((limit > 0)); then
    timeout --kill-after=10 "$limit" "$@" >"$logs/$name.log" 2>&1 || rc=$?
  else
    "$@" >"$logs/$name.log" 2>&1 || rc=$?
  fi
  if ((rc != 0)); then
    outcome=fail
    ((limit > 0 && (rc == 124 || rc == 137))) && outcome=timeout
    failed=1
  fi
  results+=("\"$name\": \"$outcome\"")
  tail -n 5 "$logs/$name.log"
  [[ $outcome == timeout ]] && echo "($name stopped after $limit s)"
  return 0
}
