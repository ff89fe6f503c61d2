#!/usr/bin/env bash
# bench/check_steps.sh, the GPU check's step runner: each outcome (pass, fail, timeout by the step's
# own limit or by the check's deadline, skipped once the time is spent), the log, the failed flag.
# No outcome depends on how fast the machine runs: a timeout cuts a 60 s sleep after 1 or 10 s.
set -uo pipefail
source "$1/bench/check_steps.sh"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
source "$(dirname "$0")/expect.sh"
joined() { local IFS=,; echo "${results[*]}"; }

unset GRADFLOW_CHECK_SECONDS
start_check
step fine 0 true >/dev/null
expect "a passing step" "$(joined)" '"fine": "pass"'
expect "failed after a pass" "$failed" 0
step broken 0 sh -c 'echo broken here; exit 3' >/dev/null
step slow 1 sleep 60 >/dev/null
expect "outcomes" "$(joined)" '"fine": "pass","broken": "fail","slow": "timeout"'
expect "failed after a failure" "$failed" 1
expect "the failing step's log" "$(cat "$logs/broken.log")" "broken here"

# The deadline caps a step without a limit of its own, then skips what comes after.
echo "an earlier check's" >"$logs/late.log"
GRADFLOW_CHECK_SECONDS=100 GRADFLOW_CHECK_RESERVE=90 start_check
step capped 0 sleep 60 >/dev/null
step late 0 true >/dev/null
expect "after the deadline" "$(joined)" '"capped": "timeout","late": "skipped"'
expect "failed after a skip" "$failed" 1
expect "a skipped step's log, an earlier one removed" "$([[ -e $logs/late.log ]] && echo written || echo none)" none

# A step's own limit stands where the deadline is further off.
GRADFLOW_CHECK_SECONDS=3600 start_check
step own 1 sleep 60 >/dev/null
expect "its own limit" "$(joined)" '"own": "timeout"'

((failures == 0)) && echo "check_steps.sh: every outcome as expected"
exit "$failures"
