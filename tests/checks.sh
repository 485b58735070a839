# Sourced by the shell tests (tests/launcher/*.sh, tests/train/*.sh): named checks that count
# passes and failures, so that one run reports every failing check instead of the first.
passes=0
failures=0
check() {  # check NAME CONDITION...: runs CONDITION and reports it under NAME
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; passes=$((passes + 1)); else echo "FAIL $name"; failures=$((failures + 1)); fi
}
contains() { grep -q -- "$2" "$1" 2> /dev/null; }  # contains FILE PATTERN
# fails_cleanly RC: an error exit, not a crash. kgrec exits 1 on a caller mistake (CLI11's usage
# errors: 100-115); 3 is an internal exception that escaped, 124 timeout's, >= 128 a signal.
fails_cleanly() { [ "$1" -ne 0 ] && [ "$1" -ne 3 ] && [ "$1" -lt 124 ]; }

run() {  # run CMD...: captures exit code (rc), stdout (out.txt) and stderr (err.txt)
  "$@" > out.txt 2> err.txt; rc=$?
}
