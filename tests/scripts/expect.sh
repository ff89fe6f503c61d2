# The script tests' one check (sourced): expect <what> <actual> <expected> prints a line naming the
# difference and counts it in `failures`, which the test exits with.
failures=0
expect() {
  if [[ "$2" != "$3" ]]; then
    echo "FAIL: $1: '$2', expected '$3'"
    failures=$((failures + 1))
  fi
}
