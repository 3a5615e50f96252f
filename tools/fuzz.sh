#!/bin/sh
# fuzz.sh GO FUZZTIME TARGET... — run each fuzz target (pkg:Name) for
# FUZZTIME. A run that fails with "context deadline exceeded" at the end of
# its time and wrote no failing input is Go 1.26's fuzz-coordinator race
# (golang/go#75804, fixed in Go 1.27), not a finding: it is run again, at
# most twice. Any other failure, or a written crasher, fails at once.
set -u
go=$1 fuzztime=$2
shift 2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$@"; do
  pkg=${t%%:*} name=${t##*:}
  for try in 1 2 3; do
    echo "fuzz: $name in ./$pkg for $fuzztime"
    if "$go" test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "./$pkg" >"$out" 2>&1; then
      cat "$out"
      break
    fi
    cat "$out"
    if grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written to' "$out" && [ "$try" -lt 3 ]; then
      echo "fuzz: $name: the coordinator's deadline race (golang/go#75804), no input failed: running it again"
      continue
    fi
    exit 1
  done
done
